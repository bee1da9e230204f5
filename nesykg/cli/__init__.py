"""The ``nesykg`` command line. Each command group lives in its own module."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``nesykg`` console script.

    Errors nesykg raises on purpose, and usage errors, are printed as one line,
    ``error: ...``, with exit status 2 (130 when interrupted); anything else is a bug and
    shows its traceback.
    """
    import typer
    from typer import _click as click

    from nesykg.cli.app import app
    from nesykg.cli.common import print_error, print_warning
    from nesykg.errors import NesykgError

    import warnings

    # Python warnings (ours, torch's) as one "warning:" line each, without a source line.
    warnings.showwarning = lambda message, category, *_a, **_k: print_warning(message)
    try:
        rv = app(args=argv, prog_name="nesykg", standalone_mode=False)
    except NesykgError as e:
        print_error(e)
        return 2
    except click.exceptions.NoArgsIsHelpError as e:  # a group without its command: its help
        typer.echo(e.ctx.get_help())
        return 0
    except click.exceptions.UsageError as e:  # bad option or argument: one line and a hint
        where = f" (see: {e.ctx.command_path} --help)" if e.ctx is not None else ""
        print_error(e.format_message() + where)
        return e.exit_code
    except typer.Abort:
        print_error("interrupted")
        return 130
    except BrokenPipeError:  # `nesykg ... | head`: the reader left, nothing to report
        sys.stderr.close()
        return 1
    except click.exceptions.ClickException as e:
        print_error(e.format_message())
        return e.exit_code
    except KeyboardInterrupt:
        print_error("interrupted")
        return 130
    except SystemExit as e:  # a command that exits on purpose
        return int(e.code or 0) if not isinstance(e.code, str) else 1
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
