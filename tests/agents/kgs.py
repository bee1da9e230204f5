"""Hand-made family graphs for the agent tests (names readable, facts few)."""

from __future__ import annotations

from pathlib import Path

from nesykg.agents.questions import Question
from nesykg.agents.workspace import Workspace

FAMILY = [
    ("alice", "children", "carol"),
    ("bob", "children", "carol"),  # alice and bob have no spouse edge: a rule must supply it
    ("bob", "nationality", "france"),
    ("carol", "gender", "female"),
    ("dave", "spouse", "erin"),
    ("erin", "spouse", "dave"),
    ("erin", "nationality", "spain"),
    ("frank", "spouse", "gina"),
    ("gina", "spouse", "frank"),
    ("gina", "nationality", "italy"),
    ("hugo", "spouse", "iris"),
    ("iris", "spouse", "hugo"),
    ("iris", "nationality", "france"),
    ("dave", "children", "kim"),
    ("kim", "gender", "male"),
    ("frank", "children", "lea"),
    ("lea", "gender", "female"),
]

EXEMPLARS = [
    Question("what is the nationality of dave 's spouse ?", ("spain",), "dave", ("spouse", "nationality")),
    Question("which country is frank 's wife from ?", ("italy",), "frank", ("spouse", "nationality")),
    Question("what is the nationality of hugo 's spouse ?", ("france",), "hugo", ("spouse", "nationality")),
    Question("what is the gender of dave 's child ?", ("male",), "dave", ("children", "gender")),
    Question("what is the gender of frank 's child ?", ("female",), "frank", ("children", "gender")),
]


SPOUSE_RULE = "0.95\tspouse(X,Y) <= children(X,A), children(Y,A)\n"


def family_workspace(tmp_path: Path, rules: str | None = SPOUSE_RULE, **options: object) -> Workspace:
    """The family graph in an in-memory store; `rules` (a rules file's text) as expert knowledge."""
    if rules is not None:
        path = tmp_path / "rules.txt"
        path.write_text(rules, encoding="utf-8")
        options.setdefault("rules", path)
    options.setdefault("mine", False)
    return Workspace.from_triples(FAMILY, "family", **options)  # type: ignore[arg-type]


def father_questions(path: Path, pairs: list[tuple[str, str]]) -> str:
    """A PathQuestion file at `path` asking each ``(child, father)`` pair's father (gold path ``parents``)."""
    path.write_text("".join(f"who is {c} 's father ?\t{p}({p}/)\t{c}#parents#{p}#<end>#{p}\n" for c, p in pairs),
                    encoding="utf-8")
    return str(path)
