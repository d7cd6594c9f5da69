"""The `p2m` console script.

A thin front over the library functions of each room. Every room that offers
commands has a module ``<room>/cli.py`` with ``register(subparsers)``, which adds
its subcommands and sets ``func`` on each parser; ``func(args) -> int`` is the exit
status. Rooms are imported lazily so that ``p2m --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from p2m import __version__

#: Rooms whose ``cli.register`` adds subcommands, in help order.
ROOMS = ("analog_models", "events", "golden", "tb")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="p2m",
        description="P2M MDWMTJ co-simulation bench: analog models, events, golden SNN, RTL "
                    "testbenches.",
    )
    parser.add_argument("--version", action="version", version=f"p2m {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for room in ROOMS:
        try:
            mod = importlib.import_module(f"{room}.cli")
        except ModuleNotFoundError as exc:  # a room without commands yet
            if exc.name == f"{room}.cli":
                continue
            raise
        mod.register(sub)
    demo = sub.add_parser("demo", help="the main job on the built-in default, end to end")
    demo.add_argument("--out", default="out", help="output folder (default: out)")
    demo.add_argument("--instances", type=int, default=1000,
                      help="Monte Carlo instances for the characterization, >= 2 "
                           "(default 1000)")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--no-sim", action="store_true", help="skip the RTL simulation step")
    demo.set_defaults(func=_run_demo)
    return parser


def _run_demo(args: argparse.Namespace) -> int:
    from p2m.demo import run_demo

    # the same bound as analog_models.characterization (n_instances >= 2), checked
    # before any work starts
    if args.instances < 2:
        raise ValueError(f"--instances must be >= 2, got {args.instances}")
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    run_demo(args.out, instances=args.instances, seed=args.seed, sim=not args.no_sim)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except OSError as exc:  # file-system errors: a message naming the path, no traceback
        print(f"p2m {args.command}: error: {_os_error_text(exc)}", file=sys.stderr)
        return 2
    except (ValueError, UnicodeDecodeError) as exc:  # UnicodeDecodeError is a ValueError
        print(f"p2m {args.command}: error: {exc}", file=sys.stderr)
        return 2


def _os_error_text(exc: OSError) -> str:
    """``<path>: <strerror>`` (``<path> -> <path2>: ...`` for two-path errors), else
    ``str(exc)`` when the error names no file or carries no strerror."""
    if exc.filename is None or not exc.strerror:
        return str(exc)
    where = str(exc.filename)
    if exc.filename2 is not None:
        where += f" -> {exc.filename2}"
    return f"{where}: {exc.strerror}"


if __name__ == "__main__":
    raise SystemExit(main())
