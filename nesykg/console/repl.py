"""`run_repl`: the console's prompt (prompt_toolkit), around a `ConsoleSession`.

* Input: ``:commands`` are one line. In ``sparql`` and ``cypher`` a query may span lines and
  ends with ``;`` at the end of a line or with an empty line; in ``fol`` and ``ask`` Enter
  submits (a line ending in ``\\`` continues). Esc Enter submits in any mode.
* Tab completes ``:commands``, mode names after ``:mode`` and the store's entity and relation
  names (also after ``ds:``).
* History in ``$NESYKG_HISTORY`` or ``~/.nesykg_history``.
* Ctrl-C cancels the running query (the embedded store kills its bounded worker) or clears the
  input; Ctrl-D on an empty line leaves.
"""

from __future__ import annotations

import bisect
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nesykg.console.session import COMMANDS, MODES, ConsoleSession

__all__ = ["complete", "history_path", "is_complete", "run_repl"]

MAX_COMPLETIONS = 200
_WORD = re.compile(r"[^\s(),\[\]<>;{}'\"?]*$")


def history_path() -> Path:
    """``$NESYKG_HISTORY`` or ``~/.nesykg_history``."""
    return Path(os.environ.get("NESYKG_HISTORY") or Path.home() / ".nesykg_history")


def complete(text_before_cursor: str, names: list[str]) -> tuple[str, list[str]]:
    """The word being completed and its completions (`names` sorted)."""
    stripped = text_before_cursor.lstrip()
    if re.fullmatch(r":\S*", stripped):
        return stripped, [c for c in COMMANDS if c.startswith(stripped)]
    m = re.fullmatch(r":mode\s+(\S*)", stripped)
    if m:
        return m.group(1), [x for x in MODES if x.startswith(m.group(1))]
    word = _WORD.search(text_before_cursor).group(0)  # type: ignore[union-attr]
    prefix = ""
    if word.startswith("ds:"):
        prefix, word = "ds:", word[3:]
    if not word:
        return prefix + word, []
    i = bisect.bisect_left(names, word)
    out: list[str] = []
    while i < len(names) and names[i].startswith(word) and len(out) < MAX_COMPLETIONS:
        out.append(prefix + names[i])
        i += 1
    return prefix + word, out


def is_complete(text: str, mode: str) -> bool:
    """Whether Enter submits `text` in `mode` (else it starts a new line)."""
    stripped = text.strip()
    if not stripped or stripped.startswith(":") or stripped.endswith(";"):
        return True
    if text.endswith("\n"):  # an empty line ends a multi-line query
        return True
    if mode in ("fol", "ask"):
        return not text.endswith("\\")
    return False


def run_repl(session: ConsoleSession, history: Path | None = None) -> int:
    """Read inputs until Ctrl-D or ``:quit``; returns the exit status (0)."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import Completer, Completion
    from prompt_toolkit.history import FileHistory, InMemoryHistory
    from prompt_toolkit.key_binding import KeyBindings

    class _Names(Completer):
        def get_completions(self, document: Any, complete_event: Any) -> Iterator[Completion]:
            word, options = complete(document.text_before_cursor, session.names())
            for opt in options:
                yield Completion(opt, start_position=-len(word))

    keys = KeyBindings()

    @keys.add("enter")
    def _enter(event: Any) -> None:
        buf = event.current_buffer
        if is_complete(buf.text, session.mode):
            buf.validate_and_handle()
        else:
            buf.insert_text("\n")

    @keys.add("escape", "enter")
    def _submit(event: Any) -> None:
        event.current_buffer.validate_and_handle()

    path = history or history_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        hist: Any = FileHistory(str(path))
    except OSError:
        hist = InMemoryHistory()
    prompt = PromptSession(
        history=hist, completer=_Names(), complete_while_typing=False, multiline=True, key_bindings=keys,
        prompt_continuation=lambda width, line, soft: "...".rjust(width - 1) + " ",
    )
    confirm_prompt: Any = PromptSession()

    def confirm(question: str) -> bool:
        return str(confirm_prompt.prompt(question)).strip().lower() in ("y", "yes")

    session.confirm = confirm
    session.say(f"nesykg console on {session.store.location}; :help for commands, Ctrl-D to leave")
    while True:
        try:
            text = prompt.prompt(f"{session.mode}> ")
        except KeyboardInterrupt:
            continue
        except EOFError:
            break
        try:
            if not session.execute(text.replace("\\\n", "\n")):
                break
        except KeyboardInterrupt:
            session.say("cancelled")
        except EOFError:
            session.say("cancelled")
    return 0
