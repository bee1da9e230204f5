"""`import nesykg` stays light: heavy libraries load on first use."""

from __future__ import annotations

import json
import subprocess
import sys

import nesykg

HEAVY = ["torch", "torch_geometric", "neo4j", "langchain", "langchain_core", "pyoxigraph", "rdflib", "scipy"]


def test_top_level_import_loads_no_heavy_library():
    code = (
        "import sys, json, nesykg, nesykg.kg, nesykg.datasets, nesykg.cli;"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # nesykg.kg needs pyoxigraph only when a store is opened
    assert json.loads(out.stdout) == []


def test_public_names():
    assert set(nesykg.__all__) == {"__version__", "NesykgError", "open_store", "load_dataset", "TensorKG"}
    assert callable(nesykg.open_store) and callable(nesykg.load_dataset)
    assert nesykg.TensorKG.__name__ == "TensorKG"
