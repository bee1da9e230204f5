"""RDF terms as plain Python values, graph names and dataset namespaces.

nesykg's public API speaks in plain values so that every backend (Oxigraph, the
in-memory reference, Neo4j, a SPARQL endpoint) exchanges the same objects:

* an IRI is a ``str`` (``"urn:nesykg:ds:umls:virus"``);
* a literal is a `Literal` (value, datatype IRI or language tag);
* a triple is a `Triple` ``(subject, predicate, object)`` of those.

Blank nodes are skolemised into IRIs under `GENID` on import (RDF 1.1 §3.5), so a
graph's nodes are always addressable.

Graph names are short identifiers (``domain``, ``expert``, ``inferred`` or any
``[A-Za-z][A-Za-z0-9_-]*``) mapped to IRIs under `GRAPH_NS`.

Names read from files (a TSV/CSV field, a local name or an ``<IRI>``; an entity or relation
of a rule) are checked by `check_name`: at most `MAX_NAME_LENGTH` (4,096) characters and no
control characters (C0, DEL, C1, U+2028/U+2029), which no IRI may hold (RFC 3987) and
which would break a message's one line or drive a terminal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple, TypeAlias
from urllib.parse import quote, unquote

from nesykg.errors import InputError

__all__ = [
    "Literal",
    "Term",
    "Triple",
    "Pattern",
    "DOMAIN",
    "EXPERT",
    "INFERRED",
    "DEFAULT_GRAPHS",
    "GRAPH_NS",
    "DATASET_NS",
    "NS",
    "GENID",
    "XSD",
    "graph_iri",
    "graph_name",
    "check_graph_name",
    "check_iri",
    "check_name",
    "shown",
    "MAX_NAME_LENGTH",
    "dataset_namespace",
    "mint",
    "local_name",
]

NS = "urn:nesykg:ns:"
"""Namespace of nesykg's own vocabulary (provenance properties)."""
GRAPH_NS = "urn:nesykg:graph:"
DATASET_NS = "urn:nesykg:ds:"
GENID = "urn:nesykg:genid:"
XSD = "http://www.w3.org/2001/XMLSchema#"

DOMAIN = "domain"
EXPERT = "expert"
INFERRED = "inferred"
DEFAULT_GRAPHS: tuple[str, ...] = (DOMAIN, EXPERT, INFERRED)
PROVENANCE_GRAPH = "provenance"
"""System graph that holds provenance records; never part of a read union."""

_GRAPH_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
# RFC 3987 forbids these in an IRI (plus controls and space); a scheme is required.
_IRI_BAD = re.compile(r'[\x00-\x20<>"{}|^`\\\x7f-\x9f\u2028\u2029]')
# Control characters (C0, DEL, C1) and the Unicode line/paragraph separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MAX_NAME_LENGTH = 4096
"""Most characters of a name read from a file (a local name or an IRI as written)."""
_IRI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# Characters kept verbatim in minted local names; everything else is percent-encoded.
LOCAL_SAFE = "-._~!$&'()*+,;=@"


@dataclass(frozen=True, slots=True)
class Literal:
    """An RDF literal.

    Attributes:
        value: the lexical form.
        datatype: datatype IRI; ``None`` means ``xsd:string`` (or ``rdf:langString``
            when `language` is set).
        language: BCP 47 language tag, lower-cased.
    """

    value: str
    datatype: str | None = None
    language: str | None = None

    def __str__(self) -> str:
        return self.value


Term: TypeAlias = "str | Literal"


class Triple(NamedTuple):
    """A triple of terms: IRIs as ``str``, objects may be `Literal`."""

    subject: str
    predicate: str
    object: str | Literal


Pattern: TypeAlias = "tuple[str | None, str | None, str | Literal | None]"
"""A triple pattern; ``None`` is a wildcard."""


def check_graph_name(name: str) -> str:
    """Return `name` if it is a valid graph name, else raise `InputError`."""
    if not isinstance(name, str) or not _GRAPH_NAME.match(name) or name == PROVENANCE_GRAPH:
        raise InputError(
            f"invalid graph name {name!r}: use a letter followed by letters, digits, '_' or '-'"
            f" (and not the reserved name {PROVENANCE_GRAPH!r})"
        )
    return name


def graph_iri(name: str) -> str:
    """IRI of the named graph `name` (``domain`` -> ``urn:nesykg:graph:domain``)."""
    return GRAPH_NS + name


def graph_name(iri: str) -> str | None:
    """Inverse of `graph_iri`; ``None`` for graphs outside nesykg's namespace."""
    return iri[len(GRAPH_NS) :] if iri.startswith(GRAPH_NS) else None


def shown(text: str, limit: int = 60) -> str:
    """`text` quoted for a one-line message: control characters escaped (``repr``), and
    cut after `limit` characters (``'aaaa'... (10,000,000 characters)``)."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text):,} characters)"


def check_name(name: str, what: str = "name") -> str | None:
    """Return a reason why `name` (read from a file) is not acceptable, or ``None``.

    Refused: an empty name, one longer than `MAX_NAME_LENGTH` characters, one holding a
    control character (C0 including NUL and TAB, DEL, C1, U+2028/U+2029).
    """
    if not name:
        return f"empty {what}"
    if len(name) > MAX_NAME_LENGTH:
        return f"{what} {shown(name, 20)} is too long: at most {MAX_NAME_LENGTH:,} characters are allowed"
    bad = _CONTROL.search(name)
    if bad:
        return f"control character U+{ord(bad.group()):04X} in {what} {shown(name)}"
    return None


def check_iri(iri: str) -> str | None:
    """Return a reason why `iri` is not a valid absolute IRI, or ``None`` if it is."""
    if not iri:
        return "empty IRI"
    bad = _IRI_BAD.search(iri)
    if bad:
        return f"invalid IRI {shown(iri)}: character {bad.group()!r} is not allowed"
    if not _IRI_SCHEME.match(iri):
        return f"invalid IRI {shown(iri)}: no scheme (an absolute IRI such as 'http://...' is needed)"
    return None


def dataset_namespace(dataset: str) -> str:
    """The namespace that local names of dataset `dataset` are minted into."""
    clean = re.sub(r"[^A-Za-z0-9_.-]+", "-", dataset.strip().lower()).strip("-") or "data"
    return f"{DATASET_NS}{clean}:"


def mint(namespace: str, name: str) -> str:
    """Mint the IRI of local name `name` in `namespace` (percent-encoding as needed)."""
    return namespace + quote(name, safe=LOCAL_SAFE)


def local_name(iri: str, namespace: str | None = None) -> str:
    """Inverse of `mint`.

    With `namespace`, strips exactly that namespace; without, strips any dataset
    namespace (``urn:nesykg:ds:NAME:``). IRIs outside are returned unchanged.
    """
    if namespace is not None:
        return unquote(iri[len(namespace) :]) if iri.startswith(namespace) else iri
    if iri.startswith(DATASET_NS):
        rest = iri[len(DATASET_NS) :]
        head, sep, tail = rest.partition(":")
        if sep and tail:
            return unquote(tail)
    return iri
