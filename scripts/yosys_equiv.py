"""Yosys sequential equivalence of two versions of one module (shared by guard_check.py and
equiv_check.py), and the RTL source lists the Yosys-based scripts share: ``sources`` (a
files.f, through tb.run.read_files_f, as repository-relative paths) and ``rtl_at`` (the RTL
of a git revision, also used by bench/bench_rtl.py).

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
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tb.run import files_f_entries, read_files_f  # noqa: E402

MODULE_RE = re.compile(r"^\s*module\s+([A-Za-z_]\w*)", re.M)


def sources(files_f: Path) -> list[str]:
    """The Verilog sources a files.f lists (tb.run.read_files_f), relative to the
    repository (what the Yosys sandbox sees)."""
    return [os.path.relpath(p, REPO) for p in read_files_f(files_f)]


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


def rtl_at(rev: str, dest: Path) -> list[str]:
    """The RTL of git revision ``rev`` (the sources its rtl/files.f lists) written under
    ``dest``; its source list, relative to the repository when ``dest`` lies inside it.
    Raises subprocess.CalledProcessError (no such revision) or OSError (no git)."""
    def show(path: str) -> str:
        return subprocess.run(["git", "show", f"{rev}:{path}"], cwd=REPO, check=True,
                              capture_output=True, text=True).stdout
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for _, name in files_f_entries(show("rtl/files.f")):
        dst = dest / Path(name).name
        dst.write_text(show(name))
        out.append(os.path.relpath(dst, REPO) if dst.is_relative_to(REPO) else str(dst))
    return out
