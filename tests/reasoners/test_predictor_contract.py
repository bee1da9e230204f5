"""The contract every registered predictor passes (as the store contract runs every backend).

Each entry of `nesykg.reasoners.registry` is built on the shipped Countries S1 (271
entities, 2 relations): the embedding models at a random init, the rule predictor from
rules mined in a fraction of a second. A registered name without a builder here fails.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from nesykg.errors import InputError, VocabularyMismatchError
from nesykg.kg.tensor import TensorKG
from nesykg.reasoners.base import TRUTH_EPSILON, LinkPredictor
from nesykg.reasoners.checkpoint import load_predictor, save_predictor
from nesykg.reasoners.embeddings import EmbeddingConfig
from nesykg.reasoners.known import KnownTails
from nesykg.pipeline import evaluate_checkpoint
from nesykg.reasoners.predict import predict
from nesykg.reasoners.registry import get_model_class, model_names
from nesykg.reasoners.rules.miner import MinerConfig, mine_rules
from tests.reasoners.embedding_kgs import generated_kg
from tests.reasoners.predictor_kgs import countries


def _embedding(name: str) -> Callable[[TensorKG], LinkPredictor]:
    def build(kg: TensorKG) -> LinkPredictor:
        cls = get_model_class(name)
        gen = torch.Generator().manual_seed(0)
        model = cls(kg.vocab, EmbeddingConfig(dim=6, init_std=0.5), generator=gen)  # type: ignore[call-arg]
        return model.eval()  # type: ignore[attr-defined]

    return build


def _rules(kg: TensorKG) -> LinkPredictor:
    from nesykg.reasoners.rules.predictor import RuleLinkPredictor

    rules = mine_rules(kg, MinerConfig(max_length=2, constant_rules_per_head=3)).rules
    return RuleLinkPredictor(kg, rules, aggregation="max")  # many ties: a good test of top_tails


def _nbfnet(kg: TensorKG) -> LinkPredictor:
    from nesykg.reasoners.gnn.nbfnet import NBFNet, NBFNetConfig

    gen = torch.Generator().manual_seed(0)
    return NBFNet(kg.vocab, NBFNetConfig(dim=4, num_layers=2), kg.triples("train"), generator=gen).eval()


def _epignn(kg: TensorKG) -> LinkPredictor:
    from nesykg.reasoners.gnn.epignn import EpiGNN, EpiGNNConfig

    gen = torch.Generator().manual_seed(0)
    return EpiGNN(kg.vocab, EpiGNNConfig(facets=2, dim=4, num_layers=2), kg.triples("train"), generator=gen).eval()


BUILDERS: dict[str, Callable[[TensorKG], LinkPredictor]] = {
    "complex": _embedding("complex"),
    "distmult": _embedding("distmult"),
    "rotate": _embedding("rotate"),
    "transe": _embedding("transe"),
    "rules": _rules,
    "nbfnet": _nbfnet,
    "epignn": _epignn,
}


def test_every_registered_predictor_has_a_contract_builder() -> None:
    assert set(model_names()) == set(BUILDERS)


@pytest.fixture(scope="module", params=model_names())
def predictor(request: pytest.FixtureRequest) -> LinkPredictor:
    return BUILDERS[request.param](countries())


def _queries(p: LinkPredictor) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward and reciprocal queries over a spread of heads."""
    g = torch.Generator().manual_seed(1)
    heads = torch.randint(0, p.num_entities, (12,), generator=g)
    rels = torch.randint(0, 2 * p.num_relations, (12,), generator=g)
    return heads, rels


def test_identity_vocabulary_and_device(predictor: LinkPredictor) -> None:
    kg = countries()
    assert type(predictor).name in model_names()
    assert predictor.vocab is not None and predictor.vocab.fingerprint == kg.vocab.fingerprint
    assert (predictor.num_entities, predictor.num_relations) == (kg.num_entities, kg.num_relations)
    assert predictor.device == torch.device("cpu")
    assert isinstance(predictor.config, type(predictor).config_class)  # type: ignore[arg-type]


def test_shapes_and_the_reciprocal_convention(predictor: LinkPredictor) -> None:
    heads, rels = _queries(predictor)
    N, R = predictor.num_entities, predictor.num_relations
    with torch.no_grad():
        scores = predictor.score_tails(heads, rels)
        assert scores.shape == (12, N) and scores.dtype == torch.float32
        fwd = rels % R
        torch.testing.assert_close(predictor.score_heads(fwd, heads), predictor.score_tails(heads, fwd + R))
        triples = torch.stack([heads, rels, torch.arange(12)], 1)
        expected = scores.gather(1, triples[:, 2:3]).squeeze(1)
        torch.testing.assert_close(predictor.score_triples(triples), expected)
        torch.testing.assert_close(predictor.score_tails_range(heads, rels, 5, 40), scores[:, 5:40])


@pytest.mark.parametrize("chunk", [7, 64, 100000])
def test_top_tails_equals_a_full_stable_sort(predictor: LinkPredictor, chunk: int) -> None:
    heads, rels = _queries(predictor)
    with torch.no_grad():
        full = predictor.score_tails(heads, rels)
    ref_s, ref_i = torch.sort(full, dim=1, descending=True, stable=True)  # ties: smaller id first
    s, i = predictor.top_tails(heads, rels, k=20, chunk=chunk)
    assert s.shape == i.shape == (12, 20) and i.dtype == torch.long
    torch.testing.assert_close(s, ref_s[:, :20])
    assert torch.equal(i, ref_i[:, :20])
    one_s, one_i = predictor.top_tails(int(heads[0]), int(rels[0]), 5)
    assert one_s.shape == (5,) and one_i.tolist() == ref_i[0, :5].tolist()
    all_s, all_i = predictor.top_tails(heads[:2], rels[:2], k=10**6)
    N = predictor.num_entities
    assert all_i.shape == (2, N) and sorted(all_i[0].tolist()) == list(range(N))


def test_truth_values_are_in_0_1_and_order_preserving(predictor: LinkPredictor) -> None:
    heads, rels = _queries(predictor)
    with torch.no_grad():
        scores = predictor.score_tails(heads, rels)
    truth = predictor.truth_tails(heads, rels)
    assert truth.shape == scores.shape and (truth >= 0).all() and (truth <= 1 - TRUTH_EPSILON + 1e-7).all()
    order = torch.sort(scores, dim=1, descending=True, stable=True).indices
    t = truth.gather(1, order)
    assert (t[:, :-1] >= t[:, 1:] - 1e-7).all(), "a higher score got a lower truth value"


def test_observed_edges_are_true(predictor: LinkPredictor) -> None:
    kg = countries()
    train = kg.triples("train")
    heads = torch.cat([train[:10, 0], train[:10, 2]])
    rels = torch.cat([train[:10, 1], train[:10, 1] + kg.num_relations])
    tails = torch.cat([train[:10, 2], train[:10, 0]])
    for graph in (kg, train, KnownTails([train], kg.num_entities, kg.num_relations)):
        truth = predictor.truth_tails(heads, rels, graph)
        assert (truth >= 0).all() and (truth <= 1).all()
        assert (truth[torch.arange(20), tails] == 1.0).all()
        rows, cols = KnownTails([train], kg.num_entities, kg.num_relations).mask(heads, rels)
        unobserved = torch.ones_like(truth, dtype=torch.bool)
        unobserved[rows, cols] = False
        assert (truth[unobserved] <= 1 - TRUTH_EPSILON + 1e-7).all()


@pytest.mark.parametrize("with_graph", [False, True])
def test_projecting_a_one_hot_set_gives_that_heads_truth(predictor: LinkPredictor, with_graph: bool) -> None:
    graph = countries() if with_graph else None
    heads, rels = _queries(predictor)
    onehot = torch.nn.functional.one_hot(heads, predictor.num_entities).float()
    expected = predictor.truth_tails(heads, rels, graph)
    torch.testing.assert_close(predictor.project(onehot, rels, graph=graph), expected)
    one_row_at_a_time = predictor.project(onehot, rels, graph=graph, max_floats=1)
    torch.testing.assert_close(one_row_at_a_time, expected)
    if getattr(type(predictor), "one_pass_projection", False):
        return  # a GNN projects a set in one pass (its own test covers sets of two)
    # a two-member set: the max of the weighted truths (product t-norm, max for exists)
    two = onehot[:2].clone()
    two[0, heads[1]] = 0.5
    both = predictor.truth_tails(heads[:2], rels[:1].repeat(2), graph)
    want = torch.maximum(both[0], 0.5 * both[1]) if heads[0] != heads[1] else both[0]
    torch.testing.assert_close(predictor.project(two[:1], rels[:1], graph=graph)[0], want)


def test_save_load_round_trip(predictor: LinkPredictor, tmp_path: Path) -> None:
    folder = save_predictor(predictor, tmp_path / "ck", dataset="countries_s1")
    loaded = load_predictor(folder, expect=countries().vocab)
    assert type(loaded) is type(predictor) and loaded.config == predictor.config
    heads, rels = _queries(predictor)
    with torch.no_grad():
        torch.testing.assert_close(loaded.score_tails(heads, rels), predictor.score_tails(heads, rels))
    report = evaluate_checkpoint(folder, split="test")
    assert report.dataset == "countries_s1" and report.model == type(predictor).name
    assert report.metrics["count"] == 48


def test_another_vocabulary_is_refused(predictor: LinkPredictor, tmp_path: Path) -> None:
    folder = save_predictor(predictor, tmp_path / "ck", dataset="countries_s1")
    with pytest.raises(VocabularyMismatchError, match="another vocabulary"):
        load_predictor(folder, expect=generated_kg().vocab)
    with pytest.raises(VocabularyMismatchError, match="another vocabulary"):
        evaluate_checkpoint(folder, split="test", dataset="nations")


def test_broken_checkpoints_fail_with_one_clean_line(predictor: LinkPredictor, tmp_path: Path) -> None:
    good = save_predictor(predictor, tmp_path / "good", dataset="countries_s1")
    state_files = sorted(p.name for p in good.glob("*.pt"))
    assert state_files, "a checkpoint keeps its state in .pt files"

    def broken(name: str, how: Callable[[Path], None]) -> InputError:
        folder = save_predictor(predictor, tmp_path / name, dataset="countries_s1")
        how(folder)
        with pytest.raises(InputError) as e:
            load_predictor(folder)
        assert "\n" not in str(e.value) and str(folder) in str(e.value)
        return e.value

    marker = tmp_path / "pwned"

    class RunsCode:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    for f in state_files:
        def truncate(folder: Path, f: str = f) -> None:
            data = (folder / f).read_bytes()
            (folder / f).write_bytes(data[: len(data) // 2])

        assert "corrupt" in str(broken(f"trunc-{f}", truncate))
        err = broken(f"pickle-{f}", lambda folder, f=f: torch.save({"x": RunsCode()}, folder / f))
        assert "refused" in str(err) and not marker.exists()
        err = broken(f"rawpickle-{f}", lambda folder, f=f: (folder / f).write_bytes(pickle.dumps(RunsCode())))
        assert not marker.exists()
    assert "vocabulary" in str(broken("novocab", lambda folder: (folder / "vocab.json").unlink()))
    broken("badconfig", lambda folder: (folder / "config.json").write_text("{", encoding="utf-8"))


def test_predict_by_names(predictor: LinkPredictor) -> None:
    kg = countries()
    r = predict(predictor, head="belgium", relation="locatedin", top_k=5, graph=kg)
    assert r.target == "tails" and [a.rank for a in r.answers] == [1, 2, 3, 4, 5]
    assert all(a.known is not None for a in r.answers) and r.query == "(belgium, locatedin, ?)"
    assert [a.score for a in r.answers] == sorted((a.score for a in r.answers), reverse=True)
    new = predict(predictor, head="belgium", relation="locatedin", top_k=5, graph=kg, exclude_known=True)
    assert len(new.answers) == 5 and not any(a.known for a in new.answers)
    heads = predict(predictor, tail="europe", relation="locatedin", top_k=3)
    assert heads.target == "heads" and heads.answers[0].known is None
    h = predictor.vocab.entity_id("europe")  # type: ignore[union-attr]
    r_inv = predictor.vocab.relation_id("locatedin") + predictor.num_relations  # type: ignore[union-attr]
    s, i = predictor.top_tails(h, r_inv, 3)
    names = [predictor.vocab.entities[x] for x in i.tolist()]  # type: ignore[union-attr]
    assert [a.entity for a in heads.answers] == names
    with pytest.raises(InputError, match="exactly one"):
        predict(predictor, head="belgium", tail="europe", relation="locatedin")
