"""BetaE / KGReasoning files: the restricted unpickler and a write-read round trip."""

from __future__ import annotations

import os
import pickle
from collections import defaultdict

import pytest

from nesykg.datasets import load_dataset
from nesykg.datasets.betae import BETAE_SHAPES, read_betae, safe_load_pickle, write_betae
from nesykg.datasets.queries import SampledQuery, sample_queries
from nesykg.errors import InputError
from nesykg.reasoners.logic import BETAE_STRUCTURES, instantiate, parse_formula


class _RunsCode:
    """An object whose unpickling would call ``os.system``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_that_runs_code_is_refused_without_side_effect(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "test-queries.pkl"
    evil.write_bytes(pickle.dumps({("e", ("r",)): {(_RunsCode(marker),)}}))
    with pytest.raises(
        InputError, match=r"test-queries\.pkl: refused to load posix\.system|refused to load nt\.system"
    ):
        safe_load_pickle(evil)
    assert not marker.exists()
    # the plain pickle module would have run it: the test pickle is really malicious
    pickle.loads(evil.read_bytes())
    assert marker.exists()


@pytest.mark.parametrize("payload", [print, len, eval, SampledQuery])
def test_functions_and_classes_are_refused(tmp_path, payload):
    p = tmp_path / "x.pkl"
    p.write_bytes(pickle.dumps({"f": payload}))
    with pytest.raises(InputError, match="refused to load"):
        safe_load_pickle(p)


def test_builtin_containers_load_in_every_protocol(tmp_path):
    obj = defaultdict(set, {(("e", ("r",)), ("e", ("r", "n"))): {((1, (2,)), (3, (4, -2)))}})
    for proto in range(pickle.HIGHEST_PROTOCOL + 1):
        p = tmp_path / f"p{proto}.pkl"
        p.write_bytes(pickle.dumps(obj, protocol=proto))
        assert safe_load_pickle(p) == obj
    (tmp_path / "broken.pkl").write_bytes(b"\x80\x04not a pickle")
    with pytest.raises(InputError, match="broken.pkl: not a readable pickle"):
        safe_load_pickle(tmp_path / "broken.pkl")


def _kgreasoning_folder(tmp_path):
    """A hand-made folder in KGReasoning's format: signed relations, defaultdict(set) values."""
    id2ent = {0: "/m/a", 1: "/m/b", 2: "/m/c", 3: "/m/d"}
    id2rel = {0: "+/film/genre", 1: "-/film/genre", 2: "+/award", 3: "-/award"}
    q2in = ((0, (0,)), (1, (3, -2)))
    q1p = (2, (1,))
    queries = defaultdict(set)
    queries[BETAE_SHAPES["2in"]].add(q2in)
    queries[BETAE_SHAPES["1p"]].add(q1p)
    easy = defaultdict(set, {q2in: {2}, q1p: set()})
    hard = defaultdict(set, {q2in: {3}, q1p: {0, 1}})
    for name, obj in [
        ("id2ent", id2ent),
        ("ent2id", {v: k for k, v in id2ent.items()}),
        ("id2rel", id2rel),
        ("rel2id", {v: k for k, v in id2rel.items()}),
        ("test-queries", queries),
        ("test-easy-answers", easy),
        ("test-hard-answers", hard),
    ]:
        (tmp_path / f"{name}.pkl").write_bytes(pickle.dumps(obj, protocol=3))
    return tmp_path


def test_reads_kgreasoning_files_with_reciprocal_relations(tmp_path):
    got = {q.structure: q for q in read_betae(_kgreasoning_folder(tmp_path), "test")}
    # 2in: +genre(a, y) & !-award(b, y), i.e. award(y, b) negated
    assert got["2in"].formula == parse_formula('?y : "/film/genre"("/m/a", ?y) & !"/award"(?y, "/m/b")')
    assert got["2in"].easy == {"/m/c"} and got["2in"].hard == {"/m/d"}
    # 1p over a '-' relation: genre(y, c)
    assert got["1p"].formula == parse_formula('?y : "/film/genre"(?y, "/m/c")')
    assert got["1p"].hard == {"/m/a", "/m/b"} and not got["1p"].easy
    kept = {q.structure: q for q in read_betae(tmp_path, "test", relation_mode="keep")}
    assert kept["1p"].formula == parse_formula('?y : "-/film/genre"("/m/c", ?y)')


def test_unknown_structures_and_misfit_queries_are_refused(tmp_path):
    folder = _kgreasoning_folder(tmp_path)
    (folder / "test-queries.pkl").write_bytes(
        pickle.dumps({("e", ("r", "r", "r", "r")): {(0, (0, 0, 0, 0))}})
    )
    with pytest.raises(InputError, match="unknown query structure"):
        read_betae(folder, "test")
    (folder / "test-queries.pkl").write_bytes(pickle.dumps({BETAE_SHAPES["2in"]: {((0, (0,)), (1, (3, 5)))}}))
    with pytest.raises(InputError, match="a 2in query does not fit its structure: expected -2"):
        read_betae(folder, "test")


@pytest.fixture(scope="module")
def umls_queries():
    return sample_queries(load_dataset("umls"), BETAE_STRUCTURES, 3, seed=5)


def _key(q: SampledQuery):
    return (q.structure, str(q.formula))


@pytest.mark.parametrize("reciprocal", [True, False])
def test_betae_round_trip(tmp_path, umls_queries, reciprocal):
    write_betae(tmp_path, umls_queries, "test", reciprocal=reciprocal)
    names = {p.name for p in tmp_path.iterdir()}
    assert {
        "test-queries.pkl",
        "test-easy-answers.pkl",
        "test-hard-answers.pkl",
        "id2ent.pkl",
        "id2rel.pkl",
        "ent2id.pkl",
        "rel2id.pkl",
        "stats.txt",
    } <= names
    raw = pickle.loads((tmp_path / "test-queries.pkl").read_bytes())
    assert set(raw) == {BETAE_SHAPES[n] for n in BETAE_STRUCTURES}
    back = read_betae(tmp_path, "test")
    assert sorted(back, key=_key) == sorted(umls_queries, key=_key)


def test_round_trip_of_backwards_atoms_and_train_split(tmp_path):
    q = SampledQuery(
        "pi",
        instantiate("pi", ["a", "b"], ["r", "s", "r"], [True, False, True]),
        frozenset(),
        frozenset({"c"}),
    )
    write_betae(tmp_path, [q], "train", reciprocal=True)
    assert (tmp_path / "train-answers.pkl").exists()
    assert read_betae(tmp_path, "train") == [q]
    with pytest.raises(InputError, match="is not an instance of a BetaE structure"):
        write_betae(
            tmp_path / "fwd", [SampledQuery(None, q.formula, frozenset(), frozenset({"c"}))], reciprocal=False
        )


def test_fit_structures_have_no_betae_form(tmp_path):
    q = SampledQuery("3c", instantiate("3c", ["a", "b"], ["r"] * 5), frozenset(), frozenset({"c"}))
    with pytest.raises(InputError, match="structure 3c has no BetaE form"):
        write_betae(tmp_path, [q])
