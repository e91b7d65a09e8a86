"""The ``threshold-estimators`` command line."""

from __future__ import annotations

import argparse
import platform
import sys

from ._cli import demo, model, pick, retarget

PROG = "threshold-estimators"

DEBUG_HELP = (
    "on an error, print the full traceback after the one-line message (for a "
    "bug report); warnings also name their category and source line"
)


def _version() -> str:
    """This package's version and those a saved model depends on.

    The version of the code that runs (``threshold_estimators.__version__``),
    which an editable install's metadata (``importlib.metadata``) may lag;
    scikit-learn's and NumPy's too, since a saved model loads only with the
    versions that saved it.
    """
    import numpy
    import sklearn

    from . import __version__

    return (
        f"{PROG} {__version__} (scikit-learn {sklearn.__version__}, numpy "
        f"{numpy.__version__}, Python {platform.python_version()})"
    )


class _VersionAction(argparse.Action):
    """``--version``: argparse's own would wrap the line to the terminal."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        print(_version())
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Tune the decision threshold of a probabilistic classifier. "
        "Run 'threshold-estimators COMMAND --help' for a command's options.",
    )
    parser.add_argument(
        "--version",
        action=_VersionAction,
        help="print the version (and scikit-learn's, NumPy's, Python's) and exit",
    )
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    commands = parser.add_subparsers(dest="command", required=True)
    demo.add_parser(commands)
    pick.add_parser(commands)
    model.add_parsers(commands)
    retarget.add_parser(commands)
    # --debug is global, yet also accepted after the command, where a user
    # adds it to the line that failed. SUPPRESS: a command's default must not
    # undo a --debug given before the command.
    for command in commands.choices.values():
        command.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP
        )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    0 on success, 1 for a problem with the data or files (a one-line message
    on stderr), 2 for a usage error (argparse's message and usage, or a
    one-line message for arguments that contradict each other, such as an
    output that would overwrite an input). ``--debug`` adds the traceback
    after a one-line message.
    """
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else 0
    return args.run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
