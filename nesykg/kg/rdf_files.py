"""RDF files: Oxigraph's parsers in Python (blank nodes skolemised), and the check that
lets a backend load a file natively."""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nesykg.errors import InputError, ParseError
from nesykg.kg.formats import FORMATS, CountingReader, ProgressFn, detect_format, read_bytes
from nesykg.kg.store import RdfFileBlock
from nesykg.kg.terms import GENID, Literal, Triple, check_graph_name

__all__ = ["parse_rdf", "rdf_file_block"]


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
    read_bytes(p, probe=True)  # the same errors as a full read for missing, unreadable, empty
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
        source = io.BufferedReader(CountingReader(data, progress))
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
