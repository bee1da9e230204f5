"""The LLM policy end to end against a real local model (SmolLM2-135M through llama.cpp).

A model this small answers badly: this checks robustness, not accuracy. The loop must end
within its budget, every call it makes (valid or not) must come back as an observation,
and nothing may be written except validated triples with provenance.
"""

from __future__ import annotations

from nesykg.agents.executor import AgentConfig, Executor
from nesykg.agents.planner import Planner
from tests.agents import conftest_local
from tests.agents.kgs import EXEMPLARS, family_workspace

local_chat_model = conftest_local.local_chat_model  # the session fixture (skips only outside CI)

QUESTIONS = ["what is the nationality of alice 's spouse ?", "what is the gender of frank 's child ?"]


def test_the_llm_policy_on_a_real_local_model_stays_in_budget_and_writes_nothing_invalid(tmp_path, local_chat_model):
    ws = family_workspace(tmp_path)
    store = ws.store
    budget = 4
    config = AgentConfig(max_steps=budget, min_confidence=0.8)
    agent = Executor(ws, Planner(ws, EXEMPLARS), policy="llm", model=local_chat_model, tool_choice="any", config=config)
    before = store.count(graphs="inferred")
    written = 0
    for question in QUESTIONS:
        res = agent.ask(question)
        assert res.policy == "llm" and res.steps <= budget
        assert res.trace  # the model acted at least once
        for step in res.trace:  # every action, valid or not, was answered with an observation
            assert "observation" in step and step["observation"] is not None
            if not step["ok"]:
                assert "error" in step["observation"]
        for triple in res.written:  # whatever was written passed validation and the threshold
            iris = tuple(ws.iri(x) for x in triple)
            provs = store.provenance(iris)
            assert provs and all(p.confidence >= config.min_confidence and p.run_id == res.run_id for p in provs)
        written += len(res.written)
    assert store.count(graphs="inferred") - before == written
