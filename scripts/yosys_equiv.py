"""Yosys sequential equivalence of two versions of one module (shared by guard_check.py and
equiv_check.py).

``stash(srcs, module, name, params, edits)`` elaborates ``module`` from ``srcs`` (Verilog,
paths relative to the repository: yowasp's WASI sandbox sees only the repository) with
``proc; flatten``, applies Yosys commands ``edits`` inside it and stashes it as ``name``;
``prove(gold, gate)`` pairs registers and outputs by name (``equiv_make``), treats
asynchronous resets as synchronous ones and proves the pairs equal over every state
(``equiv_simple``, ``equiv_induct``).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODULE_RE = re.compile(r"^\s*module\s+([A-Za-z_]\w*)", re.M)


def sources(files_f: Path) -> list[str]:
    """The Verilog sources a files.f lists (comments and options dropped)."""
    out = []
    for line in files_f.read_text().splitlines():
        line = re.sub(r"(#|//).*", "", line).strip()
        if line and not line.startswith(("-", "+")):
            out.append(line)
    return out


def stash(srcs: list[str], module: str, name: str, params: dict[str, int] | None = None,
          edits: tuple[str, ...] = ()) -> list[str]:
    """Yosys commands: elaborate ``module`` (``params`` overriding its parameters), run
    ``edits`` inside it, stash it as ``name``."""
    chp = " ".join(f"-set {k} {v}" for k, v in (params or {}).items())
    return [f"read_verilog -noautowire -DSYNTHESIS {' '.join(srcs)}",
            *([f"chparam {chp} {module}"] if chp else []),
            f"hierarchy -top {module}", "proc", "flatten", "opt_clean",
            *([f"cd {module}", *edits, "cd .."] if edits else []),
            f"rename {module} {name}", f"design -stash {name}"]


def prove(commands: list[str], yosys: str) -> tuple[bool, str]:
    """Run ``commands`` (two stashes, ``gold`` and ``gate``) and the equivalence proof:
    (proven, the first lines that say why not)."""
    script = "\n".join([*commands,
                        "design -copy-from gold -as gold gold",
                        "design -copy-from gate -as gate gate",
                        "async2sync", "equiv_make gold gate equiv", "hierarchy -top equiv",
                        "equiv_simple -seq 2", "equiv_induct -seq 2", "equiv_status -assert",
                        ""])
    with tempfile.TemporaryDirectory(dir=REPO) as tmp:
        ys = Path(tmp) / "equiv.ys"
        ys.write_text(script)
        r = subprocess.run([yosys, "-q", "-s", os.path.relpath(ys, REPO)], cwd=REPO,
                           capture_output=True, text=True)
    why = [ln.strip() for ln in (r.stdout + r.stderr).splitlines()
           if "unproven" in ln or "ERROR" in ln]
    return r.returncode == 0, "; ".join(why[:2])
