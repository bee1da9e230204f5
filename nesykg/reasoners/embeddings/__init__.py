"""Embedding link predictors, one model per file: ComplEx, DistMult, RotatE, TransE.

Resolve them by name with `nesykg.reasoners.registry.get_model_class`.
"""

from nesykg.reasoners.embeddings.base import EmbeddingConfig, EmbeddingModel
from nesykg.reasoners.embeddings.complex import ComplEx
from nesykg.reasoners.embeddings.distmult import DistMult
from nesykg.reasoners.embeddings.rotate import RotatE
from nesykg.reasoners.embeddings.transe import TransE

__all__ = ["EmbeddingConfig", "EmbeddingModel", "ComplEx", "DistMult", "RotatE", "TransE"]
