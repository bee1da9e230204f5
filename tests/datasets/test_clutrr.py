"""CLUTRR CSV loading and the family-chain generator."""

from __future__ import annotations

from pathlib import Path

import pytest

from nesykg.datasets.clutrr import FAMILY_RELATIONS, generate_family_chains, load_clutrr, read_clutrr_csv
from nesykg.errors import InputError, ParseError

HEADER = ",id,story_edges,edge_types,query_edge,target\n"


def _write(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def test_reads_graphs_and_groups_tests_by_k(tmp_path: Path) -> None:
    _write(tmp_path / "1.2,1.3_train.csv", ['0,a,"[(0, 1), (1, 2)]","[\'grandson\', \'brother\']","(0, 2)",grandson\n'])
    _write(tmp_path / "1.3_test.csv", ['0,b,"[(0, 1), (1, 2), (2, 3)]","[\'son\', \'sister\', \'son\']","(0, 3)",nephew\n'])
    sp = load_clutrr(tmp_path)
    (q,) = sp.train
    assert q.edges == ((0, 1), (1, 2)) and q.edge_types == ("grandson", "brother")
    assert q.query == (0, 2) and q.target == "grandson" and q.k == 2 and q.num_nodes == 3
    assert list(sp.test_by_k()) == [3] and "nephew" in sp.relations


def test_bad_files_name_file_and_line(tmp_path: Path) -> None:
    bad = _write(tmp_path / "x.csv", ['0,a,"[(0, 1)]","[\'son\', \'son\']","(0, 1)",son\n'])
    with pytest.raises(ParseError, match="x.csv"):
        read_clutrr_csv(bad)
    (tmp_path / "y.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="no column"):
        read_clutrr_csv(tmp_path / "y.csv")
    with pytest.raises(InputError, match="no \\*_train.csv"):
        load_clutrr(tmp_path)


def test_generator_is_seeded_and_makes_chains_of_length_k() -> None:
    a = generate_family_chains(30, [2, 4], seed=1)
    assert a == generate_family_chains(30, [2, 4], seed=1) and a != generate_family_chains(30, [2, 4], seed=2)
    for q in a:
        assert len(q.edges) == q.k and q.query == (0, q.k) and q.k in (2, 4)
        assert set(q.edge_types) <= set(FAMILY_RELATIONS) and q.target in FAMILY_RELATIONS
    # a chain of one edge: the answer is the edge itself
    assert all(q.target == q.edge_types[0] for q in generate_family_chains(20, 1, seed=0))
