"""TensorKG: deterministic ids, split tensors, per-relation CSR, PyG export, vocabulary."""

from __future__ import annotations

import pytest
import torch

from nesykg.datasets import load_dataset
from nesykg.errors import InputError, UnknownNameError, VocabularyMismatchError
from nesykg.kg import open_store
from nesykg.kg.io import import_file
from nesykg.kg.tensor import TensorKG
from nesykg.kg.vocab import Vocabulary
from tests.conftest import generate_triples, write_tsv


@pytest.fixture
def toy(tmp_path):
    write_tsv(tmp_path / "train.tsv", [("b", "r2", "a"), ("a", "r1", "c"), ("c", "r1", "a"), ("a", "r1", "b")])
    write_tsv(tmp_path / "valid.tsv", [("d", "r2", "a")])
    return load_dataset(tmp_path, name="toy")


def test_ids_are_sorted_and_deterministic(toy):
    kg = TensorKG.from_dataset(toy)
    assert kg.vocab.entities == ("a", "b", "c", "d")
    assert kg.vocab.relations == ("r1", "r2")
    assert kg.triples("train").tolist() == [[1, 1, 0], [0, 0, 2], [2, 0, 0], [0, 0, 1]]
    assert kg.triples("valid").tolist() == [[3, 1, 0]]
    assert kg.triples("train").dtype == torch.long and kg.triples("train").shape == (4, 3)
    assert TensorKG.from_dataset(toy).vocab.fingerprint == kg.vocab.fingerprint


def test_per_relation_csr(toy):
    kg = TensorKG.from_dataset(toy)
    adj = kg.adjacency(0)  # r1: a->b, a->c, c->a
    assert adj.layout == torch.sparse_csr
    assert adj.to_dense().tolist() == [[0, 1, 1, 0], [0, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]]
    sp = kg.adjacency(1, layout="scipy")  # r2: b->a
    assert sp.toarray().tolist() == [[0, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    assert kg.relation_edges(0).tolist() == [[0, 1], [0, 2], [2, 0]]
    with pytest.raises(InputError, match="relation id 2 out of range"):
        kg.adjacency(2)


def test_csr_matches_dense_on_random_graph():
    names = generate_triples(num_entities=30, num_relations=5, num_triples=120, seed=3)
    kg = TensorKG.from_triples({"train": names})
    dense = torch.zeros(kg.num_relations, kg.num_entities, kg.num_entities)
    t = kg.triples()
    dense[t[:, 1], t[:, 0], t[:, 2]] = 1
    for r in range(kg.num_relations):
        assert torch.equal(kg.adjacency(r).to_dense(), dense[r])


def test_pyg_export(toy):
    data = TensorKG.from_dataset(toy).to_pyg("train")
    assert data.num_nodes == 4
    assert data.edge_index.tolist() == [[1, 0, 2, 0], [0, 2, 0, 1]]
    assert data.edge_type.tolist() == [1, 0, 0, 0]


def test_snapshot_of_store_equals_dataset(tmp_path):
    ds = load_dataset("nations")
    st = open_store()
    import_file(st, ds.path / "train.tsv", namespace=ds.namespace)
    snap = TensorKG.from_store(st)
    assert snap.vocab.namespace == ds.namespace
    expected = TensorKG.from_triples({"train": ds.train}, namespace=ds.namespace)
    assert snap.vocab == expected.vocab
    assert sorted(map(tuple, snap.triples().tolist())) == sorted(map(tuple, expected.triples().tolist()))


def test_snapshot_against_a_vocabulary_refuses_unknown_names(tmp_path):
    st = open_store()
    import_file(st, write_tsv(tmp_path / "k.tsv", [("a", "r", "b"), ("zed", "r", "a")]))
    vocab = Vocabulary(("a", "b"), ("r",), "urn:nesykg:ds:k:")
    with pytest.raises(InputError, match="'zed' is not in the vocabulary"):
        TensorKG.from_store(st, vocab=vocab)


def test_save_load_and_mismatch(tmp_path, toy):
    kg = TensorKG.from_dataset(toy)
    kg.save(tmp_path / "snap")
    back = TensorKG.load(tmp_path / "snap", expect=kg.vocab)
    assert back.vocab == kg.vocab and torch.equal(back.triples(), kg.triples())
    other = TensorKG.from_dataset(load_dataset("nations"))
    with pytest.raises(VocabularyMismatchError, match=r"the saved snapshot was built for another vocabulary .*entities: 4 in the saved snapshot, 14 here"):
        TensorKG.load(tmp_path / "snap", expect=other.vocab)


def test_vocabulary_lookup_errors_suggest_names(toy):
    vocab = TensorKG.from_dataset(toy).vocab
    assert vocab.entity_id("c") == 2
    with pytest.raises(UnknownNameError, match=r"unknown relation 'r3'; did you mean 'r[12]', 'r[12]'"):
        vocab.relation_id("r3")


def test_vocabulary_file_tamper_detected(tmp_path, toy):
    vocab = TensorKG.from_dataset(toy).vocab
    path = vocab.save(tmp_path)
    path.write_text(path.read_text().replace('"d"', '"e"'))
    with pytest.raises(InputError, match="corrupt"):
        Vocabulary.load(tmp_path)
    with pytest.raises(InputError, match="no vocabulary file"):
        Vocabulary.load(tmp_path / "nowhere")
