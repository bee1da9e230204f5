"""Import and export: RDF formats (through Oxigraph's parsers) and TSV/CSV triples.

Imports are validated completely before anything is written, then applied as one
atomic change set: a malformed line anywhere aborts the whole import with a
`ParseError` naming file, line and reason, and the store is left as it was.

TSV/CSV files hold ``head<TAB>relation<TAB>tail`` (CSV: three comma-separated
columns). A field in angle brackets (``<http://...>``) is taken as a full IRI; any
other field is a local name minted into the dataset's namespace
(`nesykg.kg.terms.dataset_namespace`), and exported back to the same name. Blank
lines and lines starting with ``#`` are skipped.

RDF formats: Turtle, N-Triples, N-Quads, TriG, N3, RDF/XML, JSON-LD. Every triple of
the file, whatever graph it is in, goes into the chosen graph; blank nodes are
skolemised into fresh IRIs under ``urn:nesykg:genid:``.

Memory bound: an import holds the parsed triples of its files in memory until the
atomic write (about 0.5 KB per triple in Python objects).
"""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from nesykg.errors import InputError, ParseError
from nesykg.kg.provenance import Provenance, new_run_id
from nesykg.kg.store import ChangeSet, GraphSelection, GraphStore, NQuadsBlock, RdfFileBlock
from nesykg.kg.terms import (
    GENID,
    INFERRED,
    LOCAL_SAFE,
    Literal,
    Triple,
    check_graph_name,
    check_iri,
    dataset_namespace,
    graph_iri,
    local_name,
    mint,
)

__all__ = [
    "FORMATS",
    "ImportResult",
    "detect_format",
    "read_triples",
    "read_block",
    "parse_rdf",
    "rdf_file_block",
    "import_files",
    "import_file",
    "export",
]

# name -> (file extensions, pyoxigraph RdfFormat attribute or None for delimited text)
FORMATS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "turtle": ((".ttl", ".turtle"), "TURTLE"),
    "ntriples": ((".nt",), "N_TRIPLES"),
    "nquads": ((".nq",), "N_QUADS"),
    "trig": ((".trig",), "TRIG"),
    "n3": ((".n3",), "N3"),
    "rdfxml": ((".rdf", ".owl", ".xml"), "RDF_XML"),
    "jsonld": ((".jsonld", ".json"), "JSON_LD"),
    "tsv": ((".tsv", ".txt"), None),
    "csv": ((".csv",), None),
}
_ALIASES = {"ttl": "turtle", "nt": "ntriples", "nq": "nquads", "xml": "rdfxml", "rdf": "rdfxml",
            "json-ld": "jsonld", "rdf/xml": "rdfxml", "n-triples": "ntriples", "n-quads": "nquads"}
_SPLIT_STEMS = {"train", "valid", "dev", "test", "triples", "data", "kb"}

ProgressFn = Callable[[int], None]
"""Called with the number of bytes read since the last call."""


@dataclass(frozen=True)
class ImportResult:
    """What one import wrote."""

    files: tuple[str, ...]
    graph: str
    triples: int
    run_id: str | None = None
    """Set when the import went to the ``inferred`` graph (undo it with this id)."""


def detect_format(path: str | Path, format: str | None = None) -> str:
    """The format name for `path`: `format` if given (aliases allowed), else by extension."""
    if format is not None:
        name = _ALIASES.get(format.lower(), format.lower())
        if name not in FORMATS:
            raise InputError(f"unknown format {format!r}; known: {', '.join(FORMATS)}")
        return name
    suffix = Path(path).suffix.lower()
    for name, (exts, _) in FORMATS.items():
        if suffix in exts:
            return name
    raise InputError(
        f"{path}: unknown format for extension {suffix or '(none)'!r}; pass one of "
        f"{', '.join(FORMATS)} (e.g. --format turtle)"
    )


def default_namespace(path: str | Path) -> str:
    """Dataset namespace for a delimited file: named after its folder for split files
    (``umls/train.tsv`` -> ``umls``), else after the file (``family.tsv`` -> ``family``)."""
    p = Path(path)
    stem = p.stem.lower()
    name = p.resolve().parent.name if stem in _SPLIT_STEMS else p.stem
    return dataset_namespace(name)


def _read_bytes(path: Path, probe: bool = False) -> bytes:
    """The file's bytes (with `probe`, only its first KB: to check it can be read)."""
    try:
        if path.is_dir():
            raise InputError(f"{path}: is a directory, not a file")
        if probe:
            with open(path, "rb") as f:
                data = f.read(1024)
            return data
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied (cannot read the file)") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read the file: {e.strerror or e}") from None
    if not data.strip():
        raise InputError(f"{path}: the file is empty")
    return data


class _CountingReader(io.RawIOBase):
    """Reads `data`, reporting bytes to `progress` every ~1 MB."""

    def __init__(self, data: bytes, progress: ProgressFn | None):
        self._buf = io.BytesIO(data)
        self._progress = progress
        self._pending = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = self._buf.readinto(b)
        if self._progress is not None:
            self._pending += n
            if self._pending >= 1 << 20 or n == 0:
                self._progress(self._pending)
                self._pending = 0
        return n


def _delimited(
    path: Path,
    data: bytes,
    namespace: str,
    delimiter: str,
    progress: ProgressFn | None = None,
    first_line: int = 1,
) -> Iterator[tuple[int, Triple]]:
    """Validated ``(line number, triple)`` pairs of a TSV/CSV file."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ParseError(path, line, f"not UTF-8 text (byte {data[e.start]:#x})") from None
    minted: dict[str, str] = {}

    def term(field: str, lineno: int, column: int) -> str:
        iri = minted.get(field)
        if iri is not None:
            return iri
        value = field.strip()
        if not value:
            raise ParseError(path, lineno, f"column {column} is empty")
        if value.startswith("<") and value.endswith(">"):
            iri = value[1:-1]
            reason = check_iri(iri)
            if reason:
                raise ParseError(path, lineno, f"column {column}: {reason}")
        elif "<" in value or ">" in value:
            raise ParseError(path, lineno, f"column {column}: malformed IRI {value!r} (write <IRI>)")
        else:
            iri = mint(namespace, value)
        minted[field] = iri
        return iri

    if delimiter == "\t":
        rows: Iterable[tuple[int, list[str]]] = (
            (i, ln.rstrip("\r").split("\t")) for i, ln in enumerate(text.split("\n"), first_line)
        )
    else:
        reader = csv.reader(io.StringIO(text, newline=""))
        rows = ((reader.line_num + first_line - 1, row) for row in reader)
    # progress in 1% steps, approximating bytes by the share of lines done
    total_lines = text.count("\n") + 1
    step = max(10000, total_lines // 100)
    reported = 0
    for lineno, fields in rows:
        if progress is not None and lineno % step == 0:
            done = len(data) * lineno // total_lines
            progress(done - reported)
            reported = done
        if len(fields) == 1 and (not fields[0].strip() or fields[0].lstrip().startswith("#")):
            continue
        if not fields or fields[0].lstrip().startswith("#"):
            continue
        if len(fields) != 3:
            sep = "tab" if delimiter == "\t" else "comma"
            raise ParseError(
                path, lineno, f"expected 3 {sep}-separated columns (head, relation, tail), found {len(fields)}"
            )
        yield lineno, Triple(term(fields[0], lineno, 1), term(fields[1], lineno, 2), term(fields[2], lineno, 3))
    if progress is not None:
        progress(len(data) - reported)


def parse_rdf(path: Path, data: bytes, fmt: str, progress: ProgressFn | None = None) -> list[Triple]:
    """All triples of an RDF file's bytes (blank nodes skolemised); `ParseError` on bad input."""
    return list(_rdf(path, data, fmt, progress))


# Formats loaded natively when a file provably has no blank nodes: a blank node in
# N-Triples needs "_:", in Turtle "_:", "[" or "(" (checked conservatively: those
# characters inside literals or IRIs send the file down the Python path).
_NATIVE_FORMATS = {"ntriples": (b"_:",), "turtle": (b"_:", b"[", b"(")}


def rdf_file_block(path: str | Path, graph: str, format: str | None = None) -> RdfFileBlock | None:
    """An `RdfFileBlock` for a file a backend may load natively, or ``None`` when the
    file's format or content (possible blank nodes) needs the Python parser."""
    p = Path(path)
    fmt = detect_format(p, format)
    markers = _NATIVE_FORMATS.get(fmt)
    if markers is None:
        return None
    _read_bytes(p, probe=True)  # the same errors as a full read for missing, unreadable, empty
    count, content = 0, False
    with open(p, "rb") as f:  # line by line: the file is not held in memory
        for line in f:
            if any(m in line for m in markers):
                return None
            stripped = line.lstrip()
            content = content or bool(stripped)
            count += stripped.startswith(b"<")
    if not content:
        raise InputError(f"{p}: the file is empty")
    return RdfFileBlock(str(p), fmt, check_graph_name(graph), count if fmt == "ntriples" else None)


def _rdf(path: Path, data: bytes, fmt: str, progress: ProgressFn | None = None) -> Iterator[Triple]:
    import pyoxigraph as ox

    from nesykg.kg.backends.oxigraph import from_ox

    salt = secrets.token_hex(4)
    rdf_format = getattr(ox.RdfFormat, FORMATS[fmt][1])  # type: ignore[arg-type]

    def node(term: Any, position: str) -> str:
        if type(term) is ox.BlankNode:
            return f"{GENID}{salt}-{term.value}"
        if type(term) is ox.NamedNode:
            return term.value
        raise ParseError(path, None, f"unsupported {position} {term} (RDF 1.2 triple terms are not imported)")

    try:
        source = io.BufferedReader(_CountingReader(data, progress))
        for q in ox.parse(source, format=rdf_format, base_iri=path.resolve().as_uri()):
            o = q.object
            obj: str | Literal = from_ox(o) if type(o) is ox.Literal else node(o, "object")
            yield Triple(node(q.subject, "subject"), q.predicate.value, obj)
    except SyntaxError as e:
        msg = str(getattr(e, "msg", e))
        # pyoxigraph prefixes "Parser error at line L between columns A and B: "
        reason = msg.split(": ", 1)[1] if msg.startswith("Parser error") and ": " in msg else msg
        raise ParseError(path, e.lineno, reason, e.offset) from None
    except (ValueError, OSError) as e:
        raise ParseError(path, None, str(e)) from None


def read_triples(
    path: str | Path,
    format: str | None = None,
    namespace: str | None = None,
    progress: ProgressFn | None = None,
) -> list[Triple]:
    """Parse and validate a whole file; raises `ParseError`/`InputError` on bad input."""
    p = Path(path)
    fmt = detect_format(p, format)
    data = _read_bytes(p)
    if FORMATS[fmt][1] is None:
        ns = namespace or default_namespace(p)
        triples = [t for _, t in _delimited(p, data, ns, "\t" if fmt == "tsv" else ",", progress)]
    else:
        triples = parse_rdf(p, data, fmt, progress)
    if not triples:
        raise InputError(f"{p}: the file holds no triples")
    return triples


def read_block(
    path: str | Path,
    graph: str,
    format: str | None = None,
    namespace: str | None = None,
    progress: ProgressFn | None = None,
) -> NQuadsBlock:
    """Parse and validate a TSV/CSV file into an `NQuadsBlock` for `graph`.

    The bulk path: no Python object per triple, one dictionary look-up per field; line
    ``i`` of the block is line ``i`` of the file. Lines the fast loop does not take
    (comments, odd spacing, errors) go through the validating parser, so messages are
    the same as `read_triples`.
    """
    p = Path(path)
    fmt = detect_format(p, format)
    if FORMATS[fmt][1] is not None:
        raise InputError(f"{p}: bulk blocks are built from TSV/CSV, not {fmt}")
    data = _read_bytes(p)
    ns = namespace or default_namespace(p)
    tail = f"<{graph_iri(check_graph_name(graph))}> ."
    if fmt == "csv":
        lines: list[str] = []
        for lineno, (h, r, t) in _delimited(p, data, ns, ",", progress):
            lines.extend([""] * (lineno - 1 - len(lines)))
            lines.append(f"<{h}> <{r}> <{t}> {tail}")
        count = sum(1 for ln in lines if ln)
    else:
        fast = _tsv_text_fast(_decode(p, data, ns), ns, tail)
        if fast is not None:
            if progress is not None:
                progress(len(data))
            return NQuadsBlock(fast[0], fast[1], str(p), minted=True)
        lines, count = _tsv_block_lines(p, data, ns, tail, progress)
    if not count:
        raise InputError(f"{p}: the file holds no triples")
    return NQuadsBlock("\n".join(lines) + "\n", count, str(p))


def _decode(p: Path, data: bytes, ns: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        list(_delimited(p, data, ns, "\t"))  # raises the located error
        raise


# ASCII characters that `mint` (urllib's quote) percent-encodes; "%" comes first so
# that the escapes written for the others are not encoded again.
_ASCII_UNSAFE = "%" + "".join(
    chr(c) for c in range(128) if not (chr(c).isalnum() or chr(c) in "_.-~%" + LOCAL_SAFE or c in (9, 10))
)


def _tsv_text_fast(text: str, ns: str, tail: str) -> tuple[str, int] | None:
    """The whole file as N-Quads with string operations done in C, or ``None`` when
    the file is not plain (non-ASCII, comments, blank lines, brackets, stray spaces, a
    line without exactly three fields): then the line-by-line path takes it."""
    if not text.isascii():
        return None
    body = text[:-1] if text.endswith("\n") else text
    if (
        not body
        or any(ch in body for ch in "<>\r\x0b\x0c")
        or body[0] in " #"
        or body[-1] == " "
        or any(x in body for x in ("\n\n", "\n#", "\t\t", "\t ", " \t", "\n ", " \n"))
        or any(line.count("\t") != 2 for line in body.split("\n"))
    ):
        return None
    enc = body
    for ch in _ASCII_UNSAFE:
        if ch in enc:
            enc = enc.replace(ch, f"%{ord(ch):02X}")
    sep = "> <" + ns
    nquads = "<" + ns + enc.replace("\t", sep).replace("\n", "> " + tail + "\n<" + ns) + "> " + tail + "\n"
    return nquads, body.count("\n") + 1


def _tsv_block_lines(
    p: Path, data: bytes, ns: str, tail: str, progress: ProgressFn | None
) -> tuple[list[str], int]:
    text = _decode(p, data, ns)
    raw_lines = text.split("\n")
    iri: dict[str, str] = {}  # raw field -> minted IRI; only plain local names
    out: list[str] = []
    append = out.append
    count = 0
    step = max(10000, len(raw_lines) // 100)
    for i, line in enumerate(raw_lines):
        if progress is not None and i % step == 0 and i:
            progress(len(data) * step // len(raw_lines))
        parts = line.split("\t")
        if len(parts) == 3:
            try:
                append(f"<{iri[parts[0]]}> <{iri[parts[1]]}> <{iri[parts[2]]}> {tail}")
                count += 1
                continue
            except KeyError:
                pass
        # slow path for this line: validate (raises located errors) and learn names
        got = [t for _, t in _delimited(p, line.encode("utf-8"), ns, "\t", first_line=i + 1)]
        if not got:
            append("")
            continue
        (h, r, t), = got
        for field, value in zip(parts, (h, r, t)):
            iri[field] = value  # the same raw field always mints the same IRI
        append(f"<{h}> <{r}> <{t}> {tail}")
        count += 1
    return out, count


def import_files(
    store: GraphStore,
    paths: Sequence[str | Path],
    graph: str = "domain",
    format: str | None = None,
    namespace: str | None = None,
    progress: ProgressFn | None = None,
    confidence: float = 1.0,
) -> ImportResult:
    """Import files into `graph` all-or-nothing: nothing is written if any file fails.

    Args:
        store: target store.
        paths: files to read.
        graph: target graph; ``inferred`` records an ``import`` provenance per triple
            under a new run id so the import can be undone.
        format: force a format instead of guessing from each extension.
        namespace: namespace IRI for local names in TSV/CSV (default: per file's dataset).
        progress: byte-progress callback.
        confidence: confidence recorded for imports into ``inferred``.
    """
    check_graph_name(graph)
    if not paths:
        raise InputError("no files to import")
    run_id = None
    if graph != INFERRED and all(FORMATS[detect_format(p, format)][1] is None for p in paths):
        blocks = [read_block(p, graph, format, namespace, progress) for p in paths]
        store.apply_changes(ChangeSet(bulk=blocks), validate=False)
        return ImportResult(tuple(str(p) for p in paths), graph, sum(b.count for b in blocks), None)
    if graph != INFERRED and len(paths) == 1 and store.native_bulk:
        block = rdf_file_block(paths[0], graph, format)
        if block is not None:
            before = store.count(graphs=graph) if block.count is None else 0
            if progress:
                progress(Path(paths[0]).stat().st_size)
            store.apply_changes(ChangeSet(bulk=[block]), validate=False)
            count = block.count if block.count is not None else store.count(graphs=graph) - before
            return ImportResult((str(paths[0]),), graph, count, None)
    parsed = [(Path(p), read_triples(p, format, namespace, progress)) for p in paths]
    total = sum(len(ts) for _, ts in parsed)
    if graph == INFERRED:
        run_id = new_run_id("import")
        changes = ChangeSet(
            provenance=[
                (t, Provenance(confidence, "import", f"imported from {p.name}", run_id))
                for p, ts in parsed
                for t in ts
            ]
        )
    else:
        changes = ChangeSet(add=[(t, graph) for _, ts in parsed for t in ts])
    store.apply_changes(changes, validate=False)
    return ImportResult(tuple(str(p) for p, _ in parsed), graph, total, run_id)


def import_file(store: GraphStore, path: str | Path, graph: str = "domain", **kwargs: Any) -> ImportResult:
    """Import one file; see `import_files`."""
    return import_files(store, [path], graph, **kwargs)


def _tsv_field(term: str | Literal) -> str:
    if isinstance(term, Literal):
        import pyoxigraph as ox

        from nesykg.kg.backends.oxigraph import to_ox

        return str(to_ox(term)) if isinstance(to_ox(term), ox.Literal) else term.value
    name = local_name(term)
    if name is not term and name and not any(c in name for c in "\t\n<>"):
        return name
    return f"<{term}>"


def export(
    store: GraphStore,
    out: str | Path | IO[bytes],
    format: str = "turtle",
    graphs: GraphSelection = None,
) -> int:
    """Write the union of `graphs` to `out`; returns the number of triples written.

    Dataset formats (N-Quads, TriG) keep each triple in its graph; TSV/CSV write local
    names for minted IRIs (the names they were imported from) and ``<IRI>`` otherwise.
    """
    fmt = detect_format(str(out), format)
    names = store._resolve_graphs(graphs)
    close = False
    if isinstance(out, (str, Path)):
        stream: IO[bytes] = open(out, "wb")  # noqa: SIM115
        close = True
    else:
        stream = out
    try:
        spec = FORMATS[fmt][1]
        if spec is None:
            text = io.TextIOWrapper(stream, encoding="utf-8", newline="", write_through=True)
            writer = csv.writer(text, delimiter="\t" if fmt == "tsv" else ",", lineterminator="\n",
                                quoting=csv.QUOTE_NONE if fmt == "tsv" else csv.QUOTE_MINIMAL,
                                escapechar="\\" if fmt == "tsv" else None)
            n = 0
            for t in sorted(store.triples(graphs=names), key=repr):
                writer.writerow([_tsv_field(x) for x in t])
                n += 1
            text.flush()
            text.detach()
            return n
        import pyoxigraph as ox

        from nesykg.kg.backends.oxigraph import to_ox
        from nesykg.kg.terms import graph_iri

        rdf_format = getattr(ox.RdfFormat, spec)
        if rdf_format.supports_datasets:
            items: list[Any] = [
                ox.Quad(ox.NamedNode(s), ox.NamedNode(p), to_ox(o), ox.NamedNode(graph_iri(g)))
                for g in names
                for s, p, o in store.triples(graphs=g)
            ]
        else:
            items = [ox.Triple(ox.NamedNode(s), ox.NamedNode(p), to_ox(o)) for s, p, o in store.triples(graphs=names)]
        ox.serialize(items, stream, format=rdf_format)
        return len(items)
    finally:
        if close:
            stream.close()
