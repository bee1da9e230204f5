"""Training, checkpoints, resuming, defaults and bad input, on tiny generated KGs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from nesykg.errors import InputError, TrainingError, UnknownNameError, VocabularyMismatchError
from nesykg.reasoners.checkpoint import load_checkpoint
from nesykg.reasoners.config import TrainingConfig
from nesykg.reasoners.defaults import DEFAULTS, default_config
from nesykg.reasoners.evaluation import evaluate
from nesykg.reasoners.embeddings import EmbeddingConfig, EmbeddingModel
from nesykg.reasoners.registry import model_names
from nesykg.reasoners.training import TrainingExamples, train
from tests.reasoners.embedding_kgs import generate_triples, generated_kg, people_kg

# settings under which each model memorises `people_kg` (meta-tested below)
LEARNS = {
    "complex": dict(optimizer="adagrad", learning_rate=0.5),
    "distmult": dict(optimizer="adagrad", learning_rate=0.5),
    "rotate": dict(optimizer="adam", learning_rate=0.05),
    "transe": dict(optimizer="adam", learning_rate=0.05),
}

TINY = dict(dim=4, epochs=3, batch_size=32, learning_rate=0.1, eval_every=1)


def test_every_registered_model_has_a_learning_test() -> None:
    assert set(model_names(EmbeddingModel)) == set(LEARNS)


@pytest.mark.parametrize("name", sorted(LEARNS))
def test_each_model_learns_a_small_deterministic_kg_to_mrr_1(name: str) -> None:
    kg = people_kg()
    config = TrainingConfig(model=name, dim=8, epochs=60, batch_size=64, eval_every=0, **LEARNS[name])
    model, result = train(kg, config)
    metrics = evaluate(model, kg.triples("train"), [kg.triples("train")])
    assert metrics["mrr"] == 1.0
    assert result.history[-1]["loss"] < result.history[0]["loss"]


def test_training_is_deterministic_per_seed() -> None:
    kg = generated_kg()
    a, _ = train(kg, TrainingConfig(model="complex", n3_weight=0.01, seed=3, **TINY))
    b, _ = train(kg, TrainingConfig(model="complex", n3_weight=0.01, seed=3, **TINY))
    c, _ = train(kg, TrainingConfig(model="complex", n3_weight=0.01, seed=4, **TINY))
    assert torch.equal(a.entity.weight, b.entity.weight)
    assert not torch.equal(a.entity.weight, c.entity.weight)


def test_result_records_seed_config_timings_metrics_and_version() -> None:
    kg = generated_kg()
    config = TrainingConfig(model="distmult", n3_weight=0.01, **TINY)
    _, result = train(kg, config)
    d = json.loads(json.dumps(result.to_dict()))
    assert d["seed"] == 0 and d["config"]["model"] == "distmult" and d["version"]
    assert set(d["metrics"]) == {"valid", "test"}
    assert {"train_seconds", "seconds_per_epoch", "eval_seconds", "total_seconds"} <= set(d["timings"])
    assert len(d["history"]) == 3 and d["epochs_completed"] == 3
    # the kept weights are those of the best validation epoch
    best = max(h["valid_mrr"] for h in d["history"])
    assert d["metrics"]["valid"]["mrr"] == pytest.approx(best)
    assert d["history"][d["best_epoch"] - 1]["valid_mrr"] == pytest.approx(best)


def test_early_stopping_after_patience_validations_without_progress() -> None:
    kg = generated_kg()
    config = TrainingConfig(model="complex", dim=4, epochs=20, learning_rate=1e-12, patience=2)
    _, result = train(kg, config)
    assert result.stopped_early and result.epochs_completed == 3 and result.best_epoch == 1


def test_kvsall_groups_examples_by_head_and_relation() -> None:
    kg = people_kg()
    ex = TrainingExamples(kg.triples("train"), kg.num_entities, kg.num_relations, "kvsall")
    # 32 (person, r) pairs + 8 (food|city, r^-1) pairs
    assert len(ex) == 40
    y = ex.multi_hot(torch.arange(len(ex)), torch.device("cpu"))
    torch.testing.assert_close(y.sum(1), torch.ones(len(ex)))
    assert int((y > 0).sum()) == 64  # 32 triples, both directions
    _, result = train(kg, TrainingConfig(model="complex", dim=8, epochs=5, mode="kvsall", n3_weight=0.01, eval_every=0))
    assert result.history[-1]["loss"] < result.history[0]["loss"]


def test_checkpoint_round_trip_scores_without_training_data(tmp_path: Path) -> None:
    kg = generated_kg()
    model, result = train(kg, TrainingConfig(model="rotate", **TINY), tmp_path / "ck")
    names = {p.name for p in (tmp_path / "ck").iterdir()}
    assert {"model.pt", "config.json", "vocab.json", "metrics.json", "state.pt"} <= names
    cp = load_checkpoint(tmp_path / "ck")
    assert cp.config.model == "rotate" and cp.dataset == "generated" and cp.name == "rotate"
    assert cp.vocab.fingerprint == kg.vocab.fingerprint and cp.model.vocab is cp.vocab
    assert cp.metrics["metrics"]["test"]["mrr"] == pytest.approx(result.metrics["test"]["mrr"])
    q = kg.triples("test")
    torch.testing.assert_close(cp.model.score_tails(q[:, 0], q[:, 1]), model.score_tails(q[:, 0], q[:, 1]))
    assert evaluate(cp.model, q, [kg.triples("train"), kg.triples("valid")]) == pytest.approx(result.metrics["test"])


def test_checkpoint_of_another_vocabulary_is_refused(tmp_path: Path) -> None:
    kg = generated_kg(seed=0)
    other = generated_kg(num_entities=20, seed=1)
    train(kg, TrainingConfig(model="complex", **TINY), tmp_path / "ck")
    with pytest.raises(VocabularyMismatchError, match="another vocabulary"):
        load_checkpoint(tmp_path / "ck", expect=other.vocab)
    with pytest.raises(VocabularyMismatchError):
        train(other, TrainingConfig(model="complex", **TINY), tmp_path / "ck")


def test_resume_after_interruption_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    kg = generated_kg()
    config = TrainingConfig(model="complex", dim=4, epochs=4, batch_size=16, n3_weight=0.01)
    full, full_result = train(kg, config, tmp_path / "full")

    def interrupt(report) -> None:  # noqa: ANN001
        if report.epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(kg, config, tmp_path / "cut", on_epoch=interrupt)
    assert torch.load(tmp_path / "cut" / "state.pt", weights_only=True)["epoch"] == 2
    resumed, result = train(kg, config, tmp_path / "cut")
    assert [h["epoch"] for h in result.history] == [1, 2, 3, 4]
    assert torch.equal(resumed.entity.weight, full.entity.weight)
    assert result.metrics == full_result.metrics
    # a finished run resumes to itself; a different configuration is refused
    again, _ = train(kg, config, tmp_path / "cut")
    assert torch.equal(again.entity.weight, full.entity.weight)
    with pytest.raises(InputError, match="another configuration"):
        train(kg, config.replace(learning_rate=0.5), tmp_path / "cut")


def test_nan_loss_stops_training_naming_epoch_and_batch() -> None:
    kg = generated_kg()
    with pytest.raises(TrainingError, match=r"epoch 1, batch 1"):
        train(kg, TrainingConfig(model="complex", dim=4, epochs=2, init_std=1e30))


def test_config_refuses_unknown_keys_and_bad_values() -> None:
    with pytest.raises(InputError, match="unknown keys.*'dimension'"):
        TrainingConfig.from_dict({"model": "complex", "dimension": 5})
    with pytest.raises(InputError, match="optimizer"):
        TrainingConfig(optimizer="sgd")
    with pytest.raises(InputError, match="mode"):
        TrainingConfig(mode="lcwa")
    with pytest.raises(InputError, match="dim"):
        TrainingConfig(dim=0)
    with pytest.raises(InputError, match="N3"):
        train(generated_kg(), TrainingConfig(model="transe", n3_weight=0.1, **TINY))


def test_every_shipped_default_config_loads() -> None:
    for dataset, per_model in DEFAULTS.items():
        for model in per_model:
            config = default_config(None if dataset == "*" else dataset, model)
            assert config.model == model
    assert default_config("CoDEx-S", "complex").dim == 200
    assert default_config("umls", "complex", epochs=3).epochs == 3
    with pytest.raises(UnknownNameError):
        default_config("umls", "nosuchmodel")


def test_an_unknown_key_in_a_default_entry_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(DEFAULTS, "tiny", {"complex": {"epochz": 3}})
    with pytest.raises(InputError, match="epochz"):
        default_config("tiny", "complex")


def test_generate_triples_is_seeded_and_distinct() -> None:
    a = generate_triples(33, 7, 101, seed=0)
    assert a == generate_triples(33, 7, 101, seed=0) and len(set(a)) == 101
    assert a != generate_triples(33, 7, 101, seed=1)


def test_a_checkpoint_of_the_older_flat_layout_still_loads(tmp_path: Path) -> None:
    kg = generated_kg()
    model, _ = train(kg, TrainingConfig(model="distmult", n3_weight=0.01, **TINY), tmp_path / "ck")
    meta = json.loads((tmp_path / "ck" / "config.json").read_text())
    assert meta["model"] == "distmult" and meta["model_config"] == {"dim": 4, "init_std": None, "n3_weight": 0.01}
    # before model configs: no "model"/"model_config", the model's keys flat in "config"
    old = dict(meta["config"])
    old.update(old.pop("model_config"))
    (tmp_path / "ck" / "config.json").write_text(json.dumps({k: v for k, v in meta.items() if not k.startswith("model")} | {"config": old}))
    cp = load_checkpoint(tmp_path / "ck")
    assert cp.config.model_config == EmbeddingConfig(dim=4, n3_weight=0.01) and cp.config.dim == 4
    q = kg.triples("test")
    torch.testing.assert_close(cp.model.score_tails(q[:, 0], q[:, 1]), model.score_tails(q[:, 0], q[:, 1]))


def test_model_hyperparameters_live_in_the_model_config() -> None:
    flat = TrainingConfig(model="complex", dim=16, n3_weight=0.05, epochs=2)
    nested = TrainingConfig(model="complex", model_config=EmbeddingConfig(dim=16, n3_weight=0.05), epochs=2)
    assert flat == nested == TrainingConfig.from_dict({"model": "complex", "dim": 16, "n3_weight": 0.05, "epochs": 2})
    assert TrainingConfig.from_dict(nested.to_dict()) == nested
    assert nested.replace(dim=8, epochs=3).model_config.dim == 8 and nested.replace(epochs=3).model_config.dim == 16
    with pytest.raises(InputError, match="unknown keys"):
        TrainingConfig(model="complex", model_config={"width": 3})
    with pytest.raises(InputError, match="not an embedding model"):
        train(generated_kg(), TrainingConfig(model="rules", epochs=1))


def test_training_reports_through_the_progress_protocol() -> None:
    calls: list[tuple[str, int, int | None]] = []
    train(generated_kg(), TrainingConfig(model="complex", **TINY), progress=lambda s, d, t: calls.append((s, d, t)))
    assert [c for c in calls if c[0] == "training complex"] == [("training complex", e, 3) for e in range(4)]
    assert calls[-1][0] == "evaluating" and calls[-1][1] == calls[-1][2]
