"""Fuzzy conjunction: t-norms as pure tensor functions, resolved by name.

A t-norm ``T: [0, 1]^2 -> [0, 1]`` is the fuzzy "and" of the reasoners (FIT, CQD-beam):

* ``product`` (default, FIT's and CQD's choice): ``T(a, b) = a * b``;
* ``godel`` (minimum): ``T(a, b) = min(a, b)``.

Existential quantification is the maximum and negation ``1 - x`` for every t-norm, as in FIT
(Yin, Wang & Song, ICLR 2024). Third parties add t-norms through the ``nesykg.tnorms``
entry-point group (``name = "package.module:object"``, an instance of `TNorm`).

>>> import torch
>>> get_tnorm("product").conj(torch.tensor([0.5]), torch.tensor([0.5])).item()
0.25
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nesykg.registry import Registry

if TYPE_CHECKING:  # pragma: no cover
    from torch import Tensor

__all__ = ["GODEL", "PRODUCT", "TNORMS", "TNorm", "get_tnorm"]


@dataclass(frozen=True)
class TNorm:
    """A named t-norm.

    Attributes:
        name: registry name.
        conj: ``(a, b) -> T(a, b)``, elementwise over broadcastable tensors.
    """

    name: str
    conj: Callable[[Tensor, Tensor], Tensor]

    def __repr__(self) -> str:
        return f"TNorm({self.name!r})"


def _product(a: Tensor, b: Tensor) -> Tensor:
    return a * b


def _godel(a: Tensor, b: Tensor) -> Tensor:
    import torch

    return torch.minimum(a, b)


PRODUCT = TNorm("product", _product)
GODEL = TNorm("godel", _godel)

TNORMS: Registry[TNorm] = Registry(
    "t-norm",
    "nesykg.tnorms",
    {
        "product": "nesykg.reasoners.logic.tnorms:PRODUCT",
        "godel": "nesykg.reasoners.logic.tnorms:GODEL",
        "min": "nesykg.reasoners.logic.tnorms:GODEL",
    },
)


def get_tnorm(name: str | TNorm) -> TNorm:
    """The t-norm registered as `name`; a `TNorm` passes through.

    Raises:
        UnknownNameError: not registered (the message offers the closest names).
    """
    if isinstance(name, TNorm):
        return name
    # the built-in names win over entry points in the registry anyway; skip its entry-point
    # scan (tens of ms per call, once per reasoner built, i.e. per ad-hoc query)
    return _BUILTIN.get(name.lower()) if isinstance(name, str) and name.lower() in _BUILTIN else TNORMS.get(name)


_BUILTIN = {"product": PRODUCT, "godel": GODEL, "min": GODEL}
