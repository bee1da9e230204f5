"""The agent's tools: typed functions over an `Episode`, one module per concern.

=====================  =======================================================
``search_entities``    names, labels, aliases; exact spans of a question, then fuzzy
``get_neighbors``      an entity's relations and neighbours
``follow_path``        a relation path from an entity (says where it stops)
``get_rules``          mined and expert rules concluding a relation
``predict_links``      link prediction (rules or a trained model), with confidences
``answer_query``       EFO-1 formulas (FIT over the predictor and the graph)
``sparql``             read-only, bounded SPARQL
``cypher``             read-only Cypher (Neo4j stores)
``search_documents``   BM25 over documents and entity descriptions
``propose_triples``    queue validated triples for write-back
``finish``             the answers
=====================  =======================================================

`call_tool` validates a call's arguments with the tool's pydantic model and turns a
malformed call or a `ToolError` into an observation; other errors propagate. LangChain
adapters: `nesykg.agents.tools.langchain`.
"""

from __future__ import annotations

import inspect
from typing import Any

from pydantic import ValidationError

from nesykg.agents.tools.base import Episode, ToolError, ToolSpec
from nesykg.agents.tools.control import FinishArgs, ProposeArgs, finish, propose_triples
from nesykg.agents.tools.docs import DocsArgs, search_documents
from nesykg.agents.tools.graph import NeighborsArgs, PathArgs, SearchArgs, follow_path, get_neighbors, search_entities
from nesykg.agents.tools.query import CypherArgs, SparqlArgs, cypher, sparql
from nesykg.agents.tools.reasoning import PredictArgs, QueryArgs, RulesArgs, answer_query, get_rules, predict_links

__all__ = ["TOOLS", "Episode", "ToolError", "ToolSpec", "call_tool", "tool_names"]


def _spec(func: Any, args: Any, writes: bool = False) -> ToolSpec:
    doc = " ".join(inspect.getdoc(func).split())  # type: ignore[union-attr]
    return ToolSpec(func.__name__, func, args, doc, writes)


TOOLS: dict[str, ToolSpec] = {
    s.name: s
    for s in (
        _spec(search_entities, SearchArgs),
        _spec(get_neighbors, NeighborsArgs),
        _spec(follow_path, PathArgs),
        _spec(get_rules, RulesArgs),
        _spec(predict_links, PredictArgs),
        _spec(answer_query, QueryArgs),
        _spec(sparql, SparqlArgs),
        _spec(cypher, CypherArgs),
        _spec(search_documents, DocsArgs),
        _spec(propose_triples, ProposeArgs, writes=True),
        _spec(finish, FinishArgs, writes=True),
    )
}


def tool_names() -> list[str]:
    """Every tool's name, in the table's order."""
    return list(TOOLS)


def call_tool(ep: Episode, name: str, arguments: Any) -> tuple[bool, dict[str, Any]]:
    """Run one tool call; returns ``(ok, observation)``.

    A call naming no tool, arguments that are not an object or fail the tool's model, and a
    `ToolError` become ``(False, {"error": ...})``; any other exception propagates.
    """
    spec = TOOLS.get(name) if isinstance(name, str) else None
    if spec is None:
        return False, {"error": f"unknown tool {str(name)[:80]!r}; tools: {', '.join(TOOLS)}"}
    if not isinstance(arguments, dict):
        return False, {"error": f"{name}: arguments must be a JSON object, got {type(arguments).__name__}"}
    try:
        args = spec.args.model_validate(arguments)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'arguments'}: {err['msg']}" for err in e.errors()[:5])
        return False, {"error": f"{name}: malformed arguments: {problems}"}
    try:
        return True, spec.func(ep, **{k: getattr(args, k) for k in type(args).model_fields})
    except ToolError as e:
        return False, {"error": str(e)}
