"""``python -m nesykg.cli``: the same as the ``nesykg`` command."""

from nesykg.cli import main

raise SystemExit(main())
