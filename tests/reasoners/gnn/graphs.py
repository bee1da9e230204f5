"""Generated graphs for the GNN tests: a composition KG (``r3 = r1 . r2``) in two copies
with disjoint entities, for transductive and inductive checks."""

from __future__ import annotations

import random

import torch

from nesykg.kg.tensor import TensorKG
from nesykg.kg.vocab import Vocabulary

torch.set_num_threads(1)

RELATIONS = ("r1", "r2", "r3", "r4")


def composition_kg(n: int = 16, seed: int = 0, prefix: str = "e", vocab: Vocabulary | None = None) -> TensorKG:
    """``a_i -r1-> b_j -r2-> c_k`` chains and ``a_i -r3-> c_k`` (the composition), plus a
    distractor ``r4`` between random ``b`` and ``c``; 25% of the ``r3`` facts are the test split.

    Entities are ``{prefix}a0..``, ``{prefix}b0..``, ``{prefix}c0..``; the relations are
    always `RELATIONS`, so two copies with other prefixes share them (inductive use).
    """
    rng = random.Random(seed)
    pb, pc = list(range(n)), list(range(n))
    rng.shuffle(pb)
    rng.shuffle(pc)
    train, test = [], []
    r3 = []
    for i in range(n):
        a, b, c = f"{prefix}a{i}", f"{prefix}b{pb[i]}", f"{prefix}c{pc[pb[i]]}"
        train += [(a, "r1", b), (b, "r2", c)]
        r3.append((a, "r3", c))
        train.append((f"{prefix}b{rng.randrange(n)}", "r4", f"{prefix}c{rng.randrange(n)}"))
    rng.shuffle(r3)
    cut = len(r3) // 4
    test, train = r3[:cut], train + r3[cut:]
    train = sorted(set(train))
    if vocab is None:
        ents = sorted({x for h, _, t in train + test for x in (h, t)})
        vocab = Vocabulary(tuple(ents), RELATIONS)
    return TensorKG.from_triples({"train": train, "test": test}, name=f"composition-{prefix}", vocab=vocab)
