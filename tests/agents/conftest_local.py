"""The real local chat model (SmolLM2-135M-Instruct via llama.cpp) as a session-scoped fixture.

Use it from any test module::

    from tests.agents import conftest_local

    local_chat_model = conftest_local.local_chat_model  # the fixture (an import would trip ruff's F811)

    def test_llm_policy(local_chat_model): ...

Without the ``llm`` extra the fixture skips, except under ``NESYKG_REQUIRE_SERVERS=1`` (set by
`make test`), where it FAILS: CI never skips the real-model tests silently.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from nesykg.errors import InputError

# No network, ever: nothing in the local model should reach the Hugging Face Hub.
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def require_local_model(**kwargs: Any) -> Any:
    """A fresh local chat model; skip without the llm extra (fail under NESYKG_REQUIRE_SERVERS=1)."""
    from nesykg.agents.local_model import local_chat_model as make_model

    try:
        return make_model(**kwargs)
    except InputError as exc:
        reason = str(exc)
        if os.environ.get("NESYKG_REQUIRE_SERVERS") == "1":
            pytest.fail(f"NESYKG_REQUIRE_SERVERS=1 but {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def local_chat_model() -> Iterator[Any]:
    """One SmolLM2-135M-Instruct chat model for the whole session (loaded offline, greedy, seed 0)."""
    with pytest.MonkeyPatch.context() as mp:
        for name, value in OFFLINE_ENV.items():
            mp.setenv(name, value)
        yield require_local_model()
