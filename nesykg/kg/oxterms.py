"""nesykg terms <-> pyoxigraph terms: the one place both term models meet.

Used by the Oxigraph and SPARQL-endpoint backends, by RDF file parsing and by export;
it knows no backend.
"""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox

from nesykg.errors import StoreError
from nesykg.kg.terms import GENID, Literal, Triple

__all__ = ["to_ox", "from_ox", "result_term"]

_NamedNode = ox.NamedNode
_OxLiteral = ox.Literal
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def to_ox(term: str | Literal) -> Any:
    """nesykg term -> pyoxigraph term."""
    if type(term) is str:
        return _NamedNode(term)
    if term.language:
        return _OxLiteral(term.value, language=term.language)
    if term.datatype:
        return _OxLiteral(term.value, datatype=_NamedNode(term.datatype))
    return _OxLiteral(term.value)


def from_ox(term: Any) -> str | Literal:
    """pyoxigraph term -> nesykg term (blank nodes become skolem IRIs)."""
    cls = type(term)
    if cls is _NamedNode:
        return term.value
    if cls is _OxLiteral:
        dt = term.datatype.value
        if term.language:
            return Literal(term.value, None, term.language)
        return Literal(term.value, None if dt == _XSD_STRING else dt)
    if cls is ox.BlankNode:
        return GENID + term.value
    raise StoreError(f"unsupported RDF term in the store: {term!r}")


def result_term(term: Any) -> Any:
    """A term of a query result: triple terms become `Triple`s."""
    if type(term) is ox.Triple:
        return Triple(from_ox(term.subject), from_ox(term.predicate), from_ox(term.object))
    return from_ox(term)
