"""GraIL inductive split folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from nesykg.datasets.inductive import is_inductive_folder, load_inductive
from nesykg.errors import InputError


def _split(root: Path, inference_test: str = "x\tr1\ty\n") -> Path:
    for part, train, test in (("train_graph", "a\tr1\tb\nb\tr2\tc\n", "a\tr2\tc\n"), ("inference_graph", "x\tr2\ty\n", inference_test)):
        (root / part).mkdir(parents=True)
        (root / part / "train.txt").write_text(train, encoding="utf-8")
        (root / part / "test.txt").write_text(test, encoding="utf-8")
    return root


def test_both_graphs_share_the_relations(tmp_path: Path) -> None:
    sp = load_inductive(_split(tmp_path / "nell_x"))
    assert sp.name == "nell_x" and is_inductive_folder(sp.path)
    assert sp.train.vocab.relations == sp.inference.vocab.relations == ("r1", "r2")
    assert sp.inference.vocab.entities == ("x", "y") and len(sp.inference.triples("test")) == 1
    assert len(sp.train.triples("valid")) == 0


def test_an_unknown_relation_or_layout_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="inference_graph.*test.txt.*'r9'"):
        load_inductive(_split(tmp_path / "bad", "x\tr9\ty\n"))
    with pytest.raises(InputError, match="not an inductive split"):
        load_inductive(tmp_path)
