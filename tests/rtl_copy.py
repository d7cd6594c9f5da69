"""A copy of the RTL with one planted edit, for the tests of the RTL checkers (CDC, guards,
equivalence). The copy lies under ``sim_build/`` because yowasp's Yosys runs in a WASI
sandbox that sees only the repository."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tb.run import read_files_f

REPO = Path(__file__).resolve().parents[1]


def planted_rtl(name: str, file: str | None = None, pattern: str = "",
                repl: str = "") -> list[str]:
    """``rtl/`` copied to ``sim_build/<name>/rtl`` with ``pattern`` replaced by ``repl``
    once in ``file`` (none: an unchanged copy); its sources in rtl/files.f order,
    repository-relative."""
    rtl = REPO / "sim_build" / name / "rtl"
    shutil.rmtree(rtl, ignore_errors=True)
    shutil.copytree(REPO / "rtl", rtl, ignore=shutil.ignore_patterns("sim", "*.md"))
    if file:
        text = (rtl / file).read_text()
        new, n = re.subn(pattern, repl, text, count=1)
        assert n == 1, f"{pattern!r} not in {file}"
        (rtl / file).write_text(new)
    return [str((rtl / p.name).relative_to(REPO))
            for p in read_files_f(REPO / "rtl" / "files.f")]
