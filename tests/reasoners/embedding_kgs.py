"""Tiny generated and hand-made graphs for the embedding-model tests.

Tests here use one torch thread: the models are tiny, and on a shared 2-core machine more
threads only add contention.
"""

from __future__ import annotations

import random
from pathlib import Path

import torch

from nesykg.kg.tensor import TensorKG
from nesykg.kg.vocab import Vocabulary

torch.set_num_threads(1)

NameTriple = tuple[str, str, str]


def numbered_vocab(num_entities: int, num_relations: int) -> Vocabulary:
    """A vocabulary of ``e0..`` and ``r0..`` (ids in name order) for models built without a KG."""
    return Vocabulary.from_names([f"e{i:04d}" for i in range(num_entities)], [f"r{i:03d}" for i in range(num_relations)])


def generate_triples(num_entities: int = 33, num_relations: int = 7, num_triples: int = 101, seed: int = 0) -> list[NameTriple]:
    """`num_triples` distinct random triples over ``e0..`` and ``r0..`` (seeded)."""
    rng = random.Random(seed)
    seen: set[NameTriple] = set()
    while len(seen) < num_triples:
        h, t = rng.randrange(num_entities), rng.randrange(num_entities)
        seen.add((f"e{h}", f"r{rng.randrange(num_relations)}", f"e{t}"))
    return sorted(seen)


def generated_kg(num_entities: int = 33, num_relations: int = 7, num_triples: int = 101, seed: int = 0) -> TensorKG:
    """A generated KG split 80/10/10 into train/valid/test (test entities all occur in train)."""
    triples = generate_triples(num_entities, num_relations, num_triples, seed)
    random.Random(seed).shuffle(triples)
    n = len(triples)
    return TensorKG.from_triples(
        {"train": triples[: int(0.8 * n)], "valid": triples[int(0.8 * n) : int(0.9 * n)], "test": triples[int(0.9 * n) :]},
        name="generated",
    )


def people_kg() -> TensorKG:
    """16 people, each liking one of 4 foods and living in one of 4 cities -- every model
    (TransE and symmetric DistMult included) can represent it exactly."""
    train = [(f"p{i}", "likes", f"food{i % 4}") for i in range(16)]
    train += [(f"p{i}", "lives_in", f"city{i // 4}") for i in range(16)]
    return TensorKG.from_triples({"train": train}, name="people")


def write_dataset(folder: Path, kg_triples: dict[str, list[NameTriple]]) -> Path:
    """Write split files ``train.txt`` etc. into `folder` (a loadable dataset folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    for split, triples in kg_triples.items():
        (folder / f"{split}.txt").write_text("".join(f"{h}\t{r}\t{t}\n" for h, r, t in triples), encoding="utf-8")
    return folder
