"""review-board: audit a trained tabular model from the command line, and gate a release on it.

Exit status: 0 when no finding reaches ``--fail-on``, 1 when some do, 2 for bad input or usage.
Every audit is recorded in the ledger as a self-check. The commands live in :mod:`cli`:
``audit`` and ``samples`` in :mod:`cli.audit`, the board's commands (``submit``, ``vote``,
``decide``, ``export``, ``ledger list|show|verify``, ...) in :mod:`cli.board`. ``ledger verify``
exits 1 when a row was edited or deleted.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from cli.audit import add_audit_commands, run_audit_command
from cli.board import BOARD_COMMANDS, add_board_commands, run_board_command

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="review-board", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    add_audit_commands(sub)
    add_board_commands(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from audits.core.errors import InputError
    from cli.flags import render_error

    args = _parser().parse_args(argv)
    try:
        if args.command in BOARD_COMMANDS:
            return run_board_command(args)
        return run_audit_command(args)
    except InputError as e:
        print(f"error: {render_error(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into head or less, which closed early
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
