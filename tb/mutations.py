"""Mutation check of the testbench: does it catch known RTL bugs?

``python -m tb.mutations [--seed N] [NAME ...]`` copies ``rtl/`` into a temporary folder,
applies one single-line mutation at a time (a regular expression on one file), runs the
cocotb test that should catch it (through ``P2M_FILES_F``) and reports caught / MISSED /
not applicable (the pattern no longer matches the RTL: the RTL changed, update the table).
Exit status 1 when a mutation was missed. Each run takes a few seconds.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tb.run import REPO, SimFailure, read_files_f, run_test


@dataclass(frozen=True)
class Mutation:
    """One bug: ``pattern`` in ``file`` replaced by ``repl``; ``test``/``testcase`` should fail."""

    name: str
    file: str
    pattern: str
    repl: str
    test: str
    testcase: str
    env: tuple[tuple[str, str], ...] = ()
    what: str = ""


MUTATIONS: tuple[Mutation, ...] = (
    Mutation("flag_settle_early", "p2m_readout_ctrl.v",
             r"(localparam \[7:0\]\s+SETTLE_LOAD\s*=\s*SETTLE_LOAD_I\[7:0\])",
             r"\1 - 8'd1", "test_aer_readout", "AerRandomBulk", (("P2M_AER_SPIKES", "3000"),),
             what="flags latched one cycle before FLAG_SETTLE"),
    Mutation("req_ignores_ack", "p2m_aer_tx.v", r"(req_up\s*=\s*\(tstate == T_ARM\)) && !ack_s",
             r"\1", "test_aer_readout", "AerRandomBulk",
             (("P2M_AER_SPIKES", "3000"),), "aer_req rises without waiting for ack low"),
    Mutation("reset_width_plus_one", "p2m_reset_seq.v", r"cnt(\s*)<= width - 16'd1;",
             r"cnt\1<= width;", "test_reset_sequencer", "ResetWidthsAndMasks",
             what="accumulator reset pulse one cycle too long"),
    Mutation("set_pulse_missing", "p2m_prog_seq.v", r"remaining(\s*)<= code;",
             r"remaining\1<= (code > 8'd2) ? code - 8'd1 : code;", "test_threshold_ctrl",
             "ProgRandomCommands", what="one set pulse missing for codes > 2"),
    Mutation("reset_before_ack_low", "p2m_readout_ctrl.v",
             r"(chan_drained\s*=\s*\(state == S_SEND\) && sent_all && )tx_idle",
             r"\1ev_ready", "test_aer_readout", "AerRandomBulk", (("P2M_AER_SPIKES", "20000"),),
             "channel reset starts before the last handshake returned to zero"),
    Mutation("addr_with_req", "p2m_aer_tx.v",
             r"(aer_addr <= ev_addr;\s*)tstate(\s*)<= T_ARM;",
             r"\1if (!ack_s) begin aer_req <= 1'b1; tstate <= T_WAIT; end else tstate\2<= T_ARM;",
             "test_aer_readout", "AerThroughput",
             what="aer_addr loaded at the same edge that raises aer_req (no bundled-data setup)"),
)


def run_mutation(m: Mutation, seed: int, workdir: Path) -> str:
    """'caught: <first failure>', 'MISSED' or 'n/a: <why>'."""
    rtl = workdir / m.name / "rtl"
    shutil.copytree(REPO / "rtl", rtl, ignore=shutil.ignore_patterns("sim", "*.md"))
    target = rtl / m.file
    if not target.is_file():
        return f"n/a: {m.file} not found"
    text = target.read_text()
    new, n = re.subn(m.pattern, m.repl, text, count=1)
    if n == 0:
        return f"n/a: pattern not found in {m.file}"
    target.write_text(new)
    files = workdir / m.name / "files.f"
    files.write_text("\n".join(str(rtl / p.name) for p in read_files_f()) + "\n")
    env = dict(m.env)
    env["P2M_FILES_F"] = str(files)
    old = os.environ.get("P2M_FILES_F")
    os.environ["P2M_FILES_F"] = str(files)
    try:
        run_test(m.test, seed=seed, testcase=m.testcase, quiet=True, extra_env=env, sim="icarus",
                 build_dir=workdir / m.name / "build", log_file=workdir / m.name / "sim.log")
    except SimFailure as exc:
        lines = [ln.strip() for ln in str(exc).splitlines()[1:]]
        return "caught: " + (lines[0] if lines else str(exc).splitlines()[0])
    finally:
        if old is None:
            os.environ.pop("P2M_FILES_F", None)
        else:
            os.environ["P2M_FILES_F"] = old
    return "MISSED"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tb.mutations", description=__doc__.split("\n")[0])
    ap.add_argument("names", nargs="*", help="mutations to run (default: all)")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    known = {m.name: m for m in MUTATIONS}
    for n in args.names:
        if n not in known:
            print(f"error: names: unknown mutation {n!r}; known: {', '.join(known)}",
                  file=sys.stderr)
            return 2
    todo = [known[n] for n in args.names] if args.names else list(MUTATIONS)
    missed = 0
    with tempfile.TemporaryDirectory(prefix="p2m_mut_") as tmp:
        for m in todo:
            res = run_mutation(m, args.seed, Path(tmp))
            missed += res == "MISSED"
            print(f"{m.name:<24} {m.test}.{m.testcase:<22} {res[:150]}", flush=True)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
