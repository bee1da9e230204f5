"""RDF files: Oxigraph's parsers in Python (blank nodes skolemised)."""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nesykg.errors import ParseError
from nesykg.kg.formats import FORMATS, CountingReader, ProgressFn
from nesykg.kg.terms import GENID, Literal, Triple

__all__ = ["parse_rdf"]


def parse_rdf(path: Path, data: bytes, fmt: str, progress: ProgressFn | None = None) -> list[Triple]:
    """All triples of an RDF file's bytes (blank nodes skolemised); `ParseError` on bad input."""
    return list(_rdf(path, data, fmt, progress))


def _rdf(path: Path, data: bytes, fmt: str, progress: ProgressFn | None = None) -> Iterator[Triple]:
    import pyoxigraph as ox

    from nesykg.kg.oxterms import from_ox

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
