"""The ``nesykg`` command line. Each command group lives in its own module."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``nesykg`` console script.

    Errors nesykg raises on purpose are printed as one line, ``error: ...``, with exit
    status 2; anything else is a bug and shows its traceback.
    """
    from nesykg.cli.app import app
    from nesykg.errors import NesykgError

    try:
        app(args=argv, prog_name="nesykg", standalone_mode=True)
    except NesykgError as e:
        from nesykg.cli.common import err_console

        err_console().print(f"[bold red]error:[/] {e}", highlight=False, soft_wrap=True)
        return 2
    except SystemExit as e:  # typer/click exit codes
        return int(e.code or 0) if not isinstance(e.code, str) else 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
