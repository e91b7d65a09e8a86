"""The ``threshold-estimators`` command line."""

from __future__ import annotations

import argparse
import sys

from ._cli import demo, model, pick, retarget


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="threshold-estimators",
        description="Tune the decision threshold of a probabilistic classifier. "
        "Run 'threshold-estimators COMMAND --help' for a command's options.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo.add_parser(commands)
    pick.add_parser(commands)
    model.add_parsers(commands)
    retarget.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    0 on success, 1 for a problem with the data or files (a one-line message
    on stderr), 2 for a usage error (argparse's message and usage, or a
    one-line message for arguments that contradict each other, such as an
    output that would overwrite an input).
    """
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed
        return exc.code if isinstance(exc.code, int) else 0
    return args.run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
