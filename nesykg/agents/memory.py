"""The agent's memory: one SQLite file of trajectories and the planner's learned state.

>>> with Memory("agent.db") as mem:
...     agent = Executor(ws, planner, memory=mem)         # every ask is recorded
...     agent.ask("what is the nationality of [alice] 's spouse ?", gold=["france"])
...     mem.trajectories(success=True)

A trajectory is one question answered: the question, its topic entity, the plan the top answer
came from, the ranked plans, the actions taken (tool, arguments, ok; observations left out),
the answers, the gold answers when known, success (the top answer is gold; ``None`` when gold
is unknown), the triples written, the run id, the policy, the time, and whether `learn` may
learn from it (``learnable``: not for questions asked to *evaluate*, so an evaluation's
questions never become training data). The learned state
(`nesykg.agents.learning`) is one JSON document in the same file. Only parameterised SQL
touches the file; one connection per `Memory`, used from one thread.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nesykg.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.agents.executor import AgentResult

__all__ = ["Memory", "Trajectory", "SCHEMA_VERSION"]

SCHEMA_VERSION = 2
"""Version of the tables; a file of version 1 is migrated (its trajectories stay learnable), one of
another version is refused."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trajectories (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    time REAL NOT NULL,
    question TEXT NOT NULL,
    topic TEXT,
    plan TEXT NOT NULL,
    plans TEXT NOT NULL,
    actions TEXT NOT NULL,
    answers TEXT NOT NULL,
    gold TEXT,
    success INTEGER,
    written TEXT NOT NULL,
    policy TEXT NOT NULL,
    steps INTEGER NOT NULL,
    learnable INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS trajectories_success ON trajectories (success);
"""

_COLUMNS = (
    "id, run_id, time, question, topic, plan, plans, actions, answers, gold, success, written, policy, steps, learnable"
)


@dataclass(frozen=True)
class Trajectory:
    """One recorded question (see the module)."""

    question: str
    answers: tuple[str, ...]
    topic: str | None = None
    plan: str = ""
    plans: tuple[dict[str, Any], ...] = ()
    actions: tuple[dict[str, Any], ...] = ()
    gold: tuple[str, ...] | None = None
    written: tuple[tuple[str, str, str], ...] = ()
    run_id: str = ""
    policy: str = ""
    steps: int = 0
    time: float = field(default_factory=time.time)
    id: int = 0
    learnable: bool = True

    @property
    def success(self) -> bool | None:
        """The top answer is gold; ``None`` when gold is unknown."""
        if self.gold is None:
            return None
        return bool(self.answers) and self.answers[0] in self.gold

    @classmethod
    def from_result(cls, result: AgentResult, gold: Sequence[str] | None = None, learnable: bool = True) -> Trajectory:
        """The trajectory of an executor's result (`AgentResult`), with the gold answers when known."""
        actions = tuple(
            {"action": s["action"], "arguments": s["arguments"], "ok": s["ok"]} for s in result.trace
        )
        return cls(
            result.question,
            tuple(result.answers),
            result.topic,
            result.plan,
            tuple(result.plans),
            actions,
            tuple(gold) if gold is not None else None,
            tuple(tuple(t) for t in result.written),  # type: ignore[misc]
            result.run_id,
            result.policy,
            result.steps,
            learnable=learnable,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "question": self.question,
            "topic": self.topic,
            "plan": self.plan,
            "answers": list(self.answers),
            "gold": None if self.gold is None else list(self.gold),
            "success": self.success,
            "written": [list(t) for t in self.written],
            "run_id": self.run_id,
            "policy": self.policy,
            "steps": self.steps,
            "time": self.time,
            "learnable": self.learnable,
            "plans": list(self.plans),
            "actions": list(self.actions),
        }


class Memory:
    """Trajectories and learned state in one SQLite file (created when missing).

    Args:
        path: the file (``":memory:"`` for a throwaway one).

    Raises:
        InputError: the file is not a SQLite database, or one of another memory version.
    """

    def __init__(self, path: str | Path):
        self.path = str(path)
        try:
            self._db = sqlite3.connect(self.path)
            self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", ("version",)).fetchone()
            if row is None:
                self._db.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?)", ("version", str(SCHEMA_VERSION))
                )
                self._db.commit()
            elif row[0] == "1":  # version 1 lacks `learnable`: every trajectory it holds was learnable
                cols = {r[1] for r in self._db.execute("PRAGMA table_info(trajectories)")}
                if "learnable" not in cols:
                    self._db.execute("ALTER TABLE trajectories ADD COLUMN learnable INTEGER NOT NULL DEFAULT 1")
                self._db.execute("UPDATE meta SET value = ? WHERE key = ?", (str(SCHEMA_VERSION), "version"))
                self._db.commit()
            elif row[0] != str(SCHEMA_VERSION):
                self._db.close()
                raise InputError(
                    f"{self.path}: agent memory version {row[0]}, this nesykg reads {SCHEMA_VERSION}"
                )
        except sqlite3.DatabaseError as e:
            raise InputError(f"{self.path}: cannot open as an agent memory: {e}") from None

    # ------------------------------------------------------------------ trajectories
    def record(
        self, result: AgentResult | Trajectory, gold: Sequence[str] | None = None, learnable: bool = True
    ) -> Trajectory:
        """Store one answered question (an `AgentResult` or a built `Trajectory`); returns it with its id.
        `learnable=False` (an evaluation's question) keeps it out of `nesykg.agents.learning.learn`."""
        t = result if isinstance(result, Trajectory) else Trajectory.from_result(result, gold, learnable)
        success = None if t.success is None else int(t.success)
        cur = self._db.execute(
            f"INSERT INTO trajectories ({_COLUMNS.removeprefix('id, ')}) VALUES ({', '.join('?' * 14)})",
            (
                t.run_id,
                t.time,
                t.question,
                t.topic,
                t.plan,
                json.dumps(list(t.plans)),
                json.dumps(list(t.actions)),
                json.dumps(list(t.answers)),
                None if t.gold is None else json.dumps(list(t.gold)),
                success,
                json.dumps([list(x) for x in t.written]),
                t.policy,
                t.steps,
                int(t.learnable),
            ),
        )
        self._db.commit()
        return Trajectory(**{**t.__dict__, "id": int(cur.lastrowid or 0)})

    def trajectories(
        self, success: bool | None = None, after: int = 0, limit: int | None = None
    ) -> list[Trajectory]:
        """Stored trajectories in order; only successful (or failed) ones when `success` is given,
        only those with an id above `after`, at most `limit`."""
        sql, args = f"SELECT {_COLUMNS} FROM trajectories WHERE id > ?", [after]
        if success is not None:
            sql += " AND success = ?"
            args.append(int(success))
        sql += " ORDER BY id"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [self._row(r) for r in self._db.execute(sql, args)]

    @staticmethod
    def _row(r: tuple[Any, ...]) -> Trajectory:
        i, run_id, t, q, topic, plan, plans, actions, answers, gold, _, written, policy, steps, learnable = r
        return Trajectory(
            q,
            tuple(json.loads(answers)),
            topic,
            plan,
            tuple(json.loads(plans)),
            tuple(json.loads(actions)),
            None if gold is None else tuple(json.loads(gold)),
            tuple(tuple(x) for x in json.loads(written)),
            run_id,
            policy,
            steps,
            t,
            i,
            bool(learnable),
        )

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM trajectories").fetchone()[0])

    def stats(self) -> dict[str, int]:
        """Counts: trajectories, with gold, successful, not learnable (an evaluation's)."""
        n, g, s, e = self._db.execute(
            "SELECT COUNT(*), COUNT(gold), COALESCE(SUM(success), 0), COALESCE(SUM(1 - learnable), 0) FROM trajectories"
        ).fetchone()
        return {"trajectories": int(n), "with_gold": int(g), "successful": int(s), "evaluation": int(e)}

    # ------------------------------------------------------------------ learned state
    def save_state(self, state: dict[str, Any]) -> None:
        """Store the learned state (a JSON document), replacing the previous one."""
        self._db.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", ("learned", json.dumps(state))
        )
        self._db.commit()

    def load_state(self) -> dict[str, Any] | None:
        """The learned state, or ``None`` before the first `learn`."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", ("learned",)).fetchone()
        return None if row is None else json.loads(row[0])

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Memory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Memory({self.path!r}, trajectories={len(self)})"
