"""Long commands draw a progress bar with the time left on stderr, on a terminal, and never
write it into their --json output.

The commands run in a pseudo-terminal (pexpect) with stdout redirected to a file, as a user's
``nesykg ... --json > out.json`` does: the terminal shows stderr only.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from pathlib import Path

import pexpect
import pytest

from tests.report.agent_questions import write_agent_questions

NESYKG = str(Path(sys.executable).with_name("nesykg"))
COLOUR = re.compile(r"\x1b\[[0-9;]*m")
CURSOR = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")  # redraws: each frame on its own line


@pytest.mark.slow
def test_bars_with_time_left_on_stderr_never_in_json(tmp_path: Path) -> None:
    kb, exemplars, questions = write_agent_questions(tmp_path, relations=8, per_kind=4)
    ck = tmp_path / "ck"
    commands = {
        "train": f"train -d countries_s1 --dim 8 --epochs 3 --out {ck} --json",
        "mine": f"rules mine -d countries_s1 --max-length 2 --no-constants --out {tmp_path / 'rules.txt'} --json",
        "sample": f"queries sample -d umls --types 1p,2p --num 5 --out {tmp_path / 'q.jsonl'} --json",
        "agent": f"agent eval --questions {questions} --exemplars {exemplars} --kb {kb} --drop-path-triples 0.5 "
                 f"--run-dir {tmp_path / 'agent'} --json",
    }
    script = "; ".join(
        f"echo '== {name}' >&2; {shlex.quote(NESYKG)} {args} > {tmp_path / (name + '.json')}"
        for name, args in commands.items()
    )
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "160"}
    env.pop("NO_COLOR", None)
    child = pexpect.spawn("bash", ["-c", script + "; echo '== done' >&2"], env=env, encoding="utf-8",
                          dimensions=(40, 160), timeout=240)
    child.expect("== done")
    screen = CURSOR.sub("\n", COLOUR.sub("", child.before or "")) + "=="
    child.expect(pexpect.EOF)
    # what each command's terminal showed: bars named by stage, each with "left" and a time
    parts = dict(re.findall(r"== (\w+)\n(.*?)(?===)", screen, flags=re.DOTALL))
    expected_stages = {
        "train": ["training complex", "evaluating"],
        "mine": ["path rules"],
        "sample": ["2p"],
        "agent": ["building the workspace", "answering"],
    }
    for name, stages in expected_stages.items():
        text = parts.get(name, "")
        for stage in stages:
            lines = [ln for ln in text.splitlines() if stage in ln]
            assert any(re.search(r"left\s+(\d+:\d\d:\d\d|-:--:--)", ln) for ln in lines), (name, stage, text[-800:])
    for name in commands:  # stdout: the JSON alone, no bar, no escape sequence
        raw = (tmp_path / f"{name}.json").read_text(encoding="utf-8")
        assert raw.strip(), (name, parts.get(name, "")[-400:])  # it ran: its JSON is there
        assert "\x1b" not in raw and "━" not in raw and "-:--:--" not in raw
        json.loads(raw)
