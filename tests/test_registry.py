"""The one registry mechanism: stores and predictors resolve, and fail, the same way."""

from __future__ import annotations

import pytest

from nesykg.errors import InputError, UnknownNameError
from nesykg.kg.registry import STORE_REGISTRY, get_store_class, store_names
from nesykg.registry import Registry
from nesykg.reasoners.registry import PREDICTORS


def test_builtin_entries_resolve_lazily_by_case_insensitive_name():
    reg = Registry("thing", "nesykg.test-things", {"Path": "pathlib:Path", "join": "os.path:join"})
    assert reg.names() == ["join", "path"]
    import pathlib
    import os.path

    assert reg.get("PATH") is pathlib.Path and reg.get("join") is os.path.join
    assert "path" in reg and "nope" not in reg and 3 not in reg


def test_unknown_names_offer_the_closest_ones_for_every_registry():
    for reg, typo, meant in ((STORE_REGISTRY, "oxigrap", "oxigraph"), (PREDICTORS, "complx", "complex")):
        with pytest.raises(UnknownNameError, match=f"unknown {reg.kind} '{typo}'; did you mean '{meant}'"):
            reg.get(typo)


def test_a_broken_entry_names_itself_and_what_failed():
    reg = Registry("model", "nesykg.test-models", {"gone": "nesykg.no_such_module:Model", "typo": "pathlib:Pth"})
    with pytest.raises(InputError, match=r"model 'gone' is registered as 'nesykg.no_such_module:Model'"):
        reg.get("gone")
    with pytest.raises(InputError, match=r"model 'typo' is registered as 'pathlib:Pth', which cannot be loaded"):
        reg.get("typo")


def test_stores_and_predictors_are_registries():
    from nesykg.kg.backends.memory import MemoryStore

    assert {"oxigraph", "memory", "neo4j", "sparql"} <= set(store_names())
    assert get_store_class("memory") is MemoryStore
    assert {"complex", "distmult", "rotate", "transe", "rules"} <= set(PREDICTORS.names())
