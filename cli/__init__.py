"""The command-line front end of ``review-board`` (the entry point is ``review_board.main``).

:mod:`cli.audit` holds ``audit`` and ``samples``; :mod:`cli.board` the board's commands. They parse
options, map the engine's field names to their flags (:mod:`cli.flags`), call the runner and the
ledger, and print; they compute nothing.
"""
