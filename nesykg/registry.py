"""One registry mechanism for everything resolved by name.

Stores, predictors, and what comes next (t-norms, reasoners, policies, tools) are each a
`Registry`: a table of built-in entries given as import paths (``"package.module:Attr"``,
so nothing heavy loads until an entry is used) plus the entries third parties publish in
an entry-point group. Every lookup fails the same way: `UnknownNameError` with the
closest names for a name that is not registered, `InputError` naming the entry for one
that is registered but cannot be loaded.

Example::

    MODELS = Registry("model", "nesykg.models", {"complex": "nesykg...complex:ComplEx"})
    cls = MODELS.get("complex")
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from nesykg.errors import InputError, UnknownNameError

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Entries of one kind, resolved lazily by (case-insensitive) name.

    Args:
        kind: what an entry is, for messages ("model", "store backend").
        group: the entry-point group third parties register in (``nesykg.models``).
        builtin: name -> ``"module:attribute"`` of the built-in entries.
    """

    def __init__(self, kind: str, group: str, builtin: Mapping[str, str]):
        self.kind = kind
        self.group = group
        self.builtin = {k.lower(): v for k, v in builtin.items()}

    def table(self) -> dict[str, str]:
        """Name -> import path of every entry, built-in first, then entry points."""
        found = dict(self.builtin)
        for ep in entry_points(group=self.group):
            found.setdefault(ep.name.lower(), ep.value)
        return found

    def names(self) -> list[str]:
        """Sorted names of every entry."""
        return sorted(self.table())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self.table()

    def path(self, name: str) -> str:
        """The import path registered as `name`; `UnknownNameError` if there is none."""
        table = self.table()
        key = name.lower()
        if key not in table:
            raise UnknownNameError(self.kind, name, table)
        return table[key]

    def get(self, name: str) -> T:
        """The object registered as `name`, imported on first use.

        Raises:
            UnknownNameError: no such entry (the message offers the closest names).
            InputError: the entry exists but its module or attribute cannot be loaded.
        """
        target = self.path(name)
        module, _, attr = target.partition(":")
        try:
            obj: Any = importlib.import_module(module)
            for part in attr.split(".") if attr else ():
                obj = getattr(obj, part)
        except (ImportError, AttributeError) as e:
            raise InputError(f"{self.kind} {name!r} is registered as {target!r}, which cannot be loaded: {e}") from None
        return obj

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.group!r}, {sorted(self.builtin)})"
