"""Contract tests over every registered embedding model, and the model registry."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import torch

from nesykg.errors import UnknownNameError, UnsupportedCapabilityError
from nesykg.reasoners.base import LinkPredictor
from nesykg.reasoners.embeddings import ComplEx, DistMult, EmbeddingConfig, EmbeddingModel, RotatE, TransE
from nesykg.reasoners.registry import get_model_class, model_names
from nesykg.reasoners.rules.predictor import RuleLinkPredictor
from tests.reasoners.embedding_kgs import numbered_vocab

N, R, DIM = 11, 3, 4


@pytest.fixture(params=model_names(EmbeddingModel))
def model(request: pytest.FixtureRequest) -> EmbeddingModel:
    cls = get_model_class(request.param)
    m = cls(numbered_vocab(N, R), EmbeddingConfig(dim=DIM, init_std=0.5), generator=torch.Generator().manual_seed(0))
    m.eval()
    return m


def test_registry_resolves_every_builtin_name() -> None:
    assert {"complex", "distmult", "rotate", "transe", "rules"} <= set(model_names())
    assert set(model_names(EmbeddingModel)) == {"complex", "distmult", "rotate", "transe"}
    assert get_model_class("rules") is RuleLinkPredictor
    assert get_model_class("complex") is ComplEx
    assert get_model_class("ComplEx") is ComplEx
    assert get_model_class("distmult") is DistMult
    assert get_model_class("rotate") is RotatE
    assert get_model_class("transe") is TransE
    assert get_model_class(TransE) is TransE


def test_unknown_model_lists_the_choices() -> None:
    with pytest.raises(UnknownNameError) as e:
        get_model_class("complx")
    assert "complex" in str(e.value)
    with pytest.raises(UnknownNameError) as e:
        get_model_class("zzz")
    assert "distmult" in str(e.value) and "transe" in str(e.value)


def test_third_party_model_from_entry_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "my_kge_models.py").write_text(
        textwrap.dedent(
            """
            from nesykg.reasoners.embeddings.distmult import DistMult

            class HalfDistMult(DistMult):
                name = "halfdistmult"

                def score_candidates(self, queries, candidates):
                    return 0.5 * super().score_candidates(queries, candidates)
            """
        )
    )
    dist = tmp_path / "my_kge_models-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: my-kge-models\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[nesykg.models]\nhalfdistmult = my_kge_models:HalfDistMult\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "halfdistmult" in model_names()
    cls = get_model_class("halfdistmult")
    assert cls.__name__ == "HalfDistMult" and issubclass(cls, EmbeddingModel)


def test_every_model_is_a_link_predictor_with_a_docstring_naming_its_paper(model: EmbeddingModel) -> None:
    assert isinstance(model, LinkPredictor)
    module_doc = __import__(type(model).__module__, fromlist=["x"]).__doc__ or ""
    assert "arxiv.org" in module_doc or "papers.nips.cc" in module_doc
    assert "f(h, r, t)" in module_doc


def test_score_shapes_and_reciprocal_relations(model: EmbeddingModel) -> None:
    heads = torch.tensor([0, 3, 10])
    rels = torch.tensor([0, 2, 2 * R - 1])
    scores = model.score_tails(heads, rels)
    assert scores.shape == (3, N) and scores.dtype == torch.float32
    # head prediction is tail prediction with the reciprocal relation
    tails = torch.tensor([1, 2, 3])
    assert torch.equal(model.score_heads(torch.tensor([0, 1, 2]), tails), model.score_tails(tails, torch.tensor([0, 1, 2]) + R))


def test_pointwise_scores_match_the_score_matrix(model: EmbeddingModel) -> None:
    triples = torch.tensor([[0, 0, 1], [5, 1, 5], [10, 4, 0], [2, 5, 9]])
    full = model.score_tails(triples[:, 0], triples[:, 1])
    expected = full.gather(1, triples[:, 2:3]).squeeze(1)
    torch.testing.assert_close(model.score_triples(triples), expected, rtol=1e-5, atol=1e-5)


def test_entity_chunks_give_the_same_scores_and_top_k(model: EmbeddingModel) -> None:
    heads, rels = torch.tensor([1, 4]), torch.tensor([0, 3])
    full = model.score_tails(heads, rels)
    parts = torch.cat([model.score_tails_range(heads, rels, s, min(N, s + 4)) for s in range(0, N, 4)], 1)
    torch.testing.assert_close(parts, full)
    s, i = model.top_tails(heads, rels, k=5, chunk=3)
    ref_s, ref_i = torch.topk(full, 5, dim=1)
    torch.testing.assert_close(s, ref_s)
    torch.testing.assert_close(full.gather(1, i), s)
    one_s, one_i = model.top_tails(1, 0, k=3)
    assert one_i.tolist() == i[0, :3].tolist() and one_s.shape == (3,)


def test_complex_matches_its_formula_in_complex_numbers() -> None:
    m = ComplEx(numbered_vocab(3, 1), EmbeddingConfig(dim=2, init_std=1.0), generator=torch.Generator().manual_seed(1))
    e = torch.complex(m.entity.weight[:, :2], m.entity.weight[:, 2:]).detach()
    r = torch.complex(m.relation.weight[:, :2], m.relation.weight[:, 2:]).detach()
    expected = torch.real((e[0] * r[0]).unsqueeze(0) * e.conj()).sum(-1)
    torch.testing.assert_close(m.score_tails(torch.tensor([0]), torch.tensor([0]))[0].detach(), expected)


def test_rotate_relations_preserve_the_norm() -> None:
    m = RotatE(numbered_vocab(3, 1), EmbeddingConfig(dim=4), generator=torch.Generator().manual_seed(2))
    q = m.query(torch.tensor([0, 1]), torch.tensor([0, 1])).detach()
    torch.testing.assert_close(q.norm(dim=1), m.entity.weight[:2].detach().norm(dim=1))


def test_transe_scores_are_negative_distances() -> None:
    m = TransE(numbered_vocab(2, 1), EmbeddingConfig(dim=2))
    with torch.no_grad():
        m.entity.weight.copy_(torch.tensor([[0.0, 0.0], [3.0, 4.0]]))
        m.relation.weight.copy_(torch.tensor([[3.0, 0.0], [0.0, 0.0]]))
    torch.testing.assert_close(m.score_tails(torch.tensor([0]), torch.tensor([0])), torch.tensor([[-3.0, -4.0]]))


def test_n3_terms_only_where_supported(model: EmbeddingModel) -> None:
    h, r, t = torch.tensor([0, 1]), torch.tensor([0, 1]), torch.tensor([2, 3])
    if type(model).supports_n3:
        terms = model.n3_terms(h, r, t)
        assert len(terms) == 3 and all((x >= 0).all() for x in terms)
        assert model.n3_terms(h, r, None)[2].shape[0] == N
    else:
        with pytest.raises(UnsupportedCapabilityError, match="does not support N3 regularisation"):
            model.n3_terms(h, r, t)
