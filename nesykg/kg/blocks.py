"""What a write carries besides triples: blocks of text a backend may load natively.

`NQuadsBlock` (validated N-Quads text) and `RdfFileBlock` (a whole RDF file without blank
nodes) travel in a `ChangeSet.bulk`; a backend with a native parser loads them without a
Python object per triple, any other expands them with `quads()`. `rdf_file_block` decides
whether a file may go that way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nesykg.errors import InputError
from nesykg.kg.formats import detect_format, read_bytes
from nesykg.kg.terms import Triple, check_graph_name, graph_name

__all__ = ["NQuadsBlock", "RdfFileBlock", "rdf_file_block"]


@dataclass(frozen=True)
class NQuadsBlock:
    """Validated additions as N-Quads text, one line per source line (blank lines for
    skipped ones), so that backends with a native parser bulk-load them without a
    Python object per triple, and a parse error maps back to the source line.

    Attributes:
        text: N-Quads; every quad names its graph (``urn:nesykg:graph:NAME``).
        count: number of quads in `text`.
        source: file the lines came from (for error messages).
        minted: every IRI was minted by nesykg (valid by construction), so a backend
            may skip re-validating them.
        graph: the graph every quad of `text` is in, when there is one (``None``: mixed
            or unknown); a backend may use it to bulk-load into an empty graph.
    """

    text: str
    count: int
    source: str = "<data>"
    minted: bool = False
    graph: str | None = None

    def quads(self) -> list[tuple[Triple, str]]:
        """The ``(triple, graph name)`` pairs of the block, parsed by pyoxigraph."""
        import pyoxigraph as ox

        from nesykg.kg.oxterms import from_ox

        out = []
        for q in ox.parse(self.text, format=ox.RdfFormat.N_QUADS):
            g = graph_name(q.graph_name.value)
            out.append((Triple(from_ox(q.subject), from_ox(q.predicate), from_ox(q.object)), g))  # type: ignore[arg-type]
        return out


@dataclass(frozen=True)
class RdfFileBlock:
    """A whole RDF file without blank nodes, for backends that load files natively
    (the backend reads the file itself: no copy of it is held in Python).

    Attributes:
        source: the file.
        format: a `nesykg.kg.io.FORMATS` name of a triples format.
        graph: target graph name.
        count: triples in the file when known without parsing, else ``None``.
    """

    source: str
    format: str
    graph: str
    count: int | None = None

    def quads(self) -> list[tuple[Triple, str]]:
        """The ``(triple, graph name)`` pairs, parsed in Python (skolemising blank nodes)."""
        from nesykg.kg.rdf_files import parse_rdf

        p = Path(self.source)
        return [(t, self.graph) for t in parse_rdf(p, read_bytes(p), self.format)]


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
