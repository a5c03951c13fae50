"""Entry point of the ``hot-pose`` command.

One verb: ``hot-pose VIDEO_OR_FOLDER ...`` lifts videos to 3D. A few helper
commands share the executable: ``bench``, ``train``, ``eval`` and ``export``.
Each command lives in its own module exposing ``add_arguments(parser)`` and
``main(args) -> int``; this file only dispatches and turns
:class:`~hotcli.errors.HotPoseError` into a one-line message.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from hotcli.errors import HotPoseError

COMMANDS: dict[str, str] = {
    "bench": "hotcli.bench.lifter",
    "train": "hotcli.training.train",
    "eval": "hotcli.training.evaluate",
    "export": "hotcli.cli.export",
    "bvh": "hotcli.cli.bvh",
}
DEFAULT_COMMAND = "hotcli.cli.run"


def build_parser(argv: list[str]) -> tuple[argparse.ArgumentParser, object, list[str]]:
    """Pick the command module from ``argv`` and build its parser."""
    if argv and argv[0] in COMMANDS:
        name, module = argv[0], importlib.import_module(COMMANDS[argv[0]])
        argv = argv[1:]
        prog = f"hot-pose {name}"
    else:
        module = importlib.import_module(DEFAULT_COMMAND)
        prog = "hot-pose"
    doc = (module.__doc__ or "").strip()
    parser = argparse.ArgumentParser(
        prog=prog,
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=None
        if prog != "hot-pose"
        else "other commands: " + ", ".join(f"hot-pose {c} --help" for c in COMMANDS),
    )
    module.add_arguments(parser)
    return parser, module, argv


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, module, argv = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        return int(module.main(args) or 0)
    except HotPoseError as exc:
        print(f"hot-pose: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hot-pose: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
