"""The agent's memory: trajectories with outcomes in SQLite, the learned state kept across sessions."""

from __future__ import annotations

import pytest

from nesykg.agents.executor import AgentConfig, Executor
from nesykg.agents.learning import learn, load_learned, plan_weight
from nesykg.agents.memory import Memory
from nesykg.agents.planner import Planner
from nesykg.agents.workspace import Workspace
from nesykg.errors import InputError
from tests.agents.test_learning import family


def test_memory_records_trajectories_and_the_state_survives_reopening(tmp_path):
    kb, qs = family(4)
    ws = Workspace.from_triples(kb, "fam", mine=False)
    path = tmp_path / "agent.db"
    seed = [q for q in qs if q.text.startswith("is [")][:2]
    with Memory(path) as mem:
        agent = Executor(ws, Planner(ws, seed), config=AgentConfig(dry_run=True), memory=mem)
        q = next(q for q in qs if q.text.startswith("is [") and q not in seed)
        res = agent.ask(q.text, gold=q.answers)
        agent.ask("is [pa1] 's kid a boy or a girl ?")  # gold unknown
        [t1, t2] = mem.trajectories()
        assert (t1.question, t1.topic, t1.plan, t1.success) == (q.text, q.topic, "children/gender", True)
        assert t1.answers == tuple(res.answers) and t1.gold == q.answers
        assert [a["action"] for a in t1.actions] == [s["action"] for s in res.trace]
        assert t2.gold is None and t2.success is None
        assert mem.trajectories(success=True) == [t1] and mem.stats() == {
            "trajectories": 2,
            "with_gold": 1,
            "successful": 1,
            "evaluation": 0,
        }
        learn(mem, Planner(ws))
    with Memory(path) as mem:  # a later session: the planner takes the saved state
        planner = Planner(ws)
        state = load_learned(mem, planner)
        assert state is not None and state["weights"] == {"children/gender": plan_weight(1, 0)}
        assert [e.question.text for e in planner.exemplars] == [q.text]
        assert len(mem) == 2


def test_not_a_memory_is_refused_in_one_line(tmp_path):
    bad = tmp_path / "notes.db"
    bad.write_text("hello, not sqlite\n" * 100)
    with pytest.raises(InputError, match="notes.db: cannot open as an agent memory"):
        Memory(bad)


def test_a_version_1_memory_is_migrated_and_its_trajectories_stay_learnable(tmp_path):
    import sqlite3

    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "INSERT INTO meta VALUES ('version', '1');"
        "CREATE TABLE trajectories (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, time REAL NOT NULL,"
        " question TEXT NOT NULL, topic TEXT, plan TEXT NOT NULL, plans TEXT NOT NULL, actions TEXT NOT NULL,"
        " answers TEXT NOT NULL, gold TEXT, success INTEGER, written TEXT NOT NULL, policy TEXT NOT NULL,"
        " steps INTEGER NOT NULL);"
        "INSERT INTO trajectories VALUES (1, '', 0, 'q ?', 'pa0', 'spouse', '[]', '[]', '[\"pb0\"]', '[\"pb0\"]', 1,"
        " '[]', 'symbolic', 2);"
    )
    db.commit()
    db.close()
    with Memory(path) as mem:
        [t] = mem.trajectories()
        assert t.learnable and t.success and mem.stats()["evaluation"] == 0
    with Memory(path) as mem:  # migrated once, opened again as the current version
        assert len(mem) == 1


def test_evaluation_trajectories_are_recorded_but_not_learned_from(tmp_path):
    from nesykg.agents.learning import evaluate_with_memory

    kb, qs = family(4)
    with Memory(tmp_path / "agent.db") as mem:
        rep = evaluate_with_memory(qs[8:], kb, mem, exemplars=qs[:8], limit=6, config=AgentConfig(dry_run=True))
        assert rep.questions == 6 and len(mem) == 6
        assert all(not t.learnable and t.gold is not None for t in mem.trajectories())
        ws = Workspace.from_triples(kb, "fam", mine=False)
        state = learn(mem, Planner(ws))
        assert state["trajectories"] == 0 and state["exemplars"] == []
