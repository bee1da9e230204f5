"""TSV/CSV triples: the validating line parser and the bulk text paths.

``head<TAB>relation<TAB>tail`` per line (CSV: three columns). A field in angle brackets
is a full IRI; any other field is a local name minted into the dataset's namespace.
Blank lines and lines starting with ``#`` are skipped. The text is UTF-8 (a leading
byte-order mark is dropped). A field, as written, has at most 4,096 characters
(`nesykg.kg.terms.MAX_NAME_LENGTH`) and no control character (NUL, ESC, DEL, C1...):
such a file is refused with its line, like any other malformed line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from pathlib import Path

from nesykg.errors import ParseError
from nesykg.kg.formats import ProgressFn, decode_text
from nesykg.kg.terms import LOCAL_SAFE, MAX_NAME_LENGTH, Triple, check_iri, check_name, mint, shown

__all__ = ["parse_delimited", "decode_utf8", "tsv_text_fast", "tsv_block_lines"]


def parse_delimited(
    path: Path,
    data: bytes,
    namespace: str,
    delimiter: str,
    progress: ProgressFn | None = None,
    first_line: int = 1,
) -> Iterator[tuple[int, Triple]]:
    """Validated ``(line number, triple)`` pairs of a TSV/CSV file."""
    text = decode_text(path, data)
    minted: dict[str, str] = {}

    def term(field: str, lineno: int, column: int) -> str:
        iri = minted.get(field)
        if iri is not None:
            return iri
        value = field.strip()
        if not value:
            raise ParseError(path, lineno, f"column {column} is empty")
        # the field as written, but for spaces: strip() would drop controls such as \x1c-\x1f
        reason = check_name(field.strip(" "))
        if reason:
            raise ParseError(path, lineno, f"column {column}: {reason}")
        if value.startswith("<") and value.endswith(">"):
            iri = value[1:-1]
            reason = check_iri(iri)
            if reason:
                raise ParseError(path, lineno, f"column {column}: {reason}")
        elif "<" in value or ">" in value:
            raise ParseError(path, lineno, f"column {column}: malformed IRI {shown(value)} (write <IRI>)")
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


def decode_utf8(p: Path, data: bytes, ns: str) -> str:
    """`data` as text; `ParseError` with the line of the first byte that is not UTF-8."""
    return decode_text(p, data)


# ASCII characters that `mint` (urllib's quote) percent-encodes; "%" comes first so
# that the escapes written for the others are not encoded again.
_ASCII_UNSAFE = "%" + "".join(
    chr(c) for c in range(128) if not (chr(c).isalnum() or chr(c) in "_.-~%" + LOCAL_SAFE or c in (9, 10))
)


# what the fast path leaves to the validating parser: brackets, CR, and every ASCII control
# character but TAB and LF (the parser refuses them with their line)
_FAST_REFUSED = "<>" + "".join(chr(c) for c in (*range(0, 9), *range(11, 32), 127))


def tsv_text_fast(text: str, ns: str, tail: str) -> tuple[str, int] | None:
    """The whole file as N-Quads with string operations done in C, or ``None`` when
    the file is not plain (non-ASCII, comments, blank lines, brackets, stray spaces, a
    line without exactly three fields): then the line-by-line path takes it."""
    if not text.isascii():
        return None
    body = text[:-1] if text.endswith("\n") else text
    if (
        not body
        or any(ch in body for ch in _FAST_REFUSED)
        or body[0] in " #"
        or body[-1] == " "
        or any(x in body for x in ("\n\n", "\n#", "\t\t", "\t ", " \t", "\n ", " \n"))
    ):
        return None
    lines = body.split("\n")
    # a line longer than a name may be is conservatively left to the validating parser
    if any(line.count("\t") != 2 for line in lines):
        return None
    if len(body) > MAX_NAME_LENGTH and max(map(len, lines)) > MAX_NAME_LENGTH:
        return None
    enc = body
    for ch in _ASCII_UNSAFE:
        if ch in enc:
            enc = enc.replace(ch, f"%{ord(ch):02X}")
    sep = "> <" + ns
    nquads = "<" + ns + enc.replace("\t", sep).replace("\n", "> " + tail + "\n<" + ns) + "> " + tail + "\n"
    return nquads, body.count("\n") + 1


def tsv_block_lines(
    p: Path, data: bytes, ns: str, tail: str, progress: ProgressFn | None
) -> tuple[list[str], int]:
    text = decode_utf8(p, data, ns)
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
        got = [t for _, t in parse_delimited(p, line.encode("utf-8"), ns, "\t", first_line=i + 1)]
        if not got:
            append("")
            continue
        (h, r, t), = got
        for field, value in zip(parts, (h, r, t)):
            iri[field] = value  # the same raw field always mints the same IRI
        append(f"<{h}> <{r}> <{t}> {tail}")
        count += 1
    return out, count
