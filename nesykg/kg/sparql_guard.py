"""What a read query may not do: reach outside the store, or write.

`check_read_query` reads a SPARQL query's tokens (strings, IRIs, comments and variables
are recognised, so ``?service`` or ``"LOAD"`` are not keywords) and refuses, with one
`QueryRefusedError` naming the keyword and its line and column:

* ``SERVICE`` (federated queries send data to, and fetch it from, another server);
* ``LOAD`` and every other update keyword at the start of a request (``INSERT``,
  ``DELETE``, ``CLEAR``, ``DROP``, ``CREATE``, ``COPY``, ``MOVE``, ``ADD``, ``WITH``):
  query tools are read-only by construction, whatever the backend would do;
* ``FROM`` / ``FROM NAMED`` of any IRI that is not one of the store's own graphs
  (``file:``, ``http:`` ... a backend could dereference it), and of the store's own
  graphs too unless the caller allows it (``allow_graphs``): the graph selection is the
  store API's business, not the query's.

The check is lexical and conservative: it runs before the query reaches any backend and
is the same for all of them. It does not parse SPARQL; the backend still does that.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from nesykg.errors import QueryRefusedError
from nesykg.kg.terms import GRAPH_NS, NS

__all__ = ["check_read_query", "query_form", "UPDATE_KEYWORDS"]

UPDATE_KEYWORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "COPY", "MOVE", "ADD", "WITH"})

# One alternation, tried in order at each position; group names say what matched.
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][A-Za-z0-9_\u00b7\u00c0-\uffff]+)
  | (?P<pname>(?:[A-Za-z\u00c0-\uffff][\w.\-\u00c0-\uffff]*)?:[\w.\-:%\u00c0-\uffff]*)
  | (?P<word>[A-Za-z_][A-Za-z0-9_\-]*)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


def _tokens(query: str) -> list[tuple[str, str, int]]:
    """``(kind, text, offset)`` of every meaningful token (no whitespace or comments)."""
    out = []
    pos = 0
    while pos < len(query):
        m = _TOKEN.match(query, pos)
        if m is None:  # pragma: no cover - 'other' matches any character
            break
        kind = m.lastgroup or "other"
        if kind not in ("ws", "comment"):
            out.append((kind, m.group(), pos))
        pos = m.end()
    return out


def _where(query: str, offset: int) -> str:
    line = query.count("\n", 0, offset) + 1
    col = offset - (query.rfind("\n", 0, offset) + 1) + 1
    return f"line {line}, column {col}"


def check_read_query(query: str, allow_graphs: Collection[str] = (), what: str = "read query") -> None:
    """Refuse a SPARQL request that writes or reaches outside the store.

    Args:
        query: the SPARQL text.
        allow_graphs: IRIs that ``FROM`` / ``FROM NAMED`` may name (the store's own
            graphs, when the caller allows a query to choose its dataset); empty refuses
            every ``FROM``.
        what: how the query is named in messages.

    Raises:
        QueryRefusedError: one line naming the keyword and where it is.
    """
    if not isinstance(query, str):
        raise QueryRefusedError(f"a {what} must be text, got {type(query).__name__}")
    toks = _tokens(query)
    prologue = True
    prefixes: dict[str, str] = {"graph": GRAPH_NS, "nk": NS}  # the stores predefine these
    i = 0
    while i < len(toks):
        kind, text, off = toks[i]
        up = text.upper()
        if kind == "word" and up in ("PREFIX", "BASE") and prologue:
            if up == "PREFIX" and i + 2 < len(toks) and toks[i + 1][0] == "pname" and toks[i + 2][0] == "iri":
                prefixes[toks[i + 1][1].rstrip(":")] = toks[i + 2][1][1:-1]
                i += 3
            else:
                i += 2
            continue
        if kind == "word" and up in UPDATE_KEYWORDS and prologue:
            raise QueryRefusedError(f"{up} is an update; a {what} may only read ({_where(query, off)})")
        prologue = False
        if kind != "word":
            i += 1
            continue
        if up == "SERVICE":
            raise QueryRefusedError(
                f"SERVICE is refused: a {what} may not reach another endpoint ({_where(query, off)})"
            )
        if up == "LOAD":
            raise QueryRefusedError(f"LOAD is refused: a {what} may not fetch data ({_where(query, off)})")
        if up == "FROM":
            j = i + 1
            if j < len(toks) and toks[j][0] == "word" and toks[j][1].upper() == "NAMED":
                j += 1
            if j >= len(toks) or toks[j][0] not in ("iri", "pname"):
                raise QueryRefusedError(f"FROM must name a graph IRI ({_where(query, off)})")
            kind_j, ref, _ = toks[j]
            if kind_j == "iri":
                iri = ref[1:-1]
            else:
                pfx, _, local = ref.partition(":")
                iri = prefixes[pfx] + local if pfx in prefixes else ref
            if iri not in allow_graphs:
                hint = (
                    "only the store's own graphs may be named"
                    if allow_graphs
                    else "choose graphs with the store's graph selection (--graph), not FROM"
                )
                raise QueryRefusedError(f"FROM <{iri}> is refused: {hint} ({_where(query, off)})")
            i = j + 1
            continue
        i += 1


def query_form(query: str) -> str:
    """``SELECT``, ``ASK``, ``CONSTRUCT`` or ``DESCRIBE``: the first keyword after the
    prologue (``""`` when there is none)."""
    toks = _tokens(query)
    i = 0
    while i < len(toks):
        kind, text, _ = toks[i]
        up = text.upper()
        if kind == "word" and up == "PREFIX":
            i += 3
            continue
        if kind == "word" and up == "BASE":
            i += 2
            continue
        return up if kind == "word" else ""
    return ""
