"""Simulation speed of `p2m_top` under Icarus + cocotb: simulated clock cycles per wall second.

Two clock implementations in the same run, on the same loads (tb/bench_rtl_tb.py):

- ``gpi``: cocotb's GPI clock (the clock toggles inside the simulator; Python sleeps except
  at boundary events: AER handshake edges, ana_sample, ana_ch_sel changes, reset pulses);
- ``py``: the baseline, a Python coroutine toggling ``clk`` (Python wakes at every edge).

Loads: ``quiet`` (CTRL.EN = 0), ``idle`` (windows without spikes) and ``readout`` (TICK_DIV = 1, 2,000-tick windows,
~1,000 random spikes per window read out over AER with an immediate receiver, scoreboard and
protocol monitor on). Prints cycles/s for each and the gpi/py ratio. No assertions.
Knobs: ``P2M_BENCH_CYCLES`` (default 100,000 per load).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tb.run import REPO, run_test  # noqa: E402


def measure(impl: str, cycles: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.json"
        run_test("bench_rtl_tb", seed=1, build_dir=REPO / "sim_build" / f"bench_rtl_{impl}",
                 extra_env={"P2M_CLOCK_IMPL": impl, "P2M_BENCH_CYCLES": str(cycles),
                            "P2M_BENCH_OUT": str(out), "COCOTB_LOG_LEVEL": "WARNING"},
                 quiet=True, log_file=Path(tmp) / "sim.log")
        return json.loads(out.read_text())


def main() -> int:
    cycles = int(os.environ.get("P2M_BENCH_CYCLES", "100000"))
    res = {impl: measure(impl, cycles) for impl in ("gpi", "py")}
    print(f"p2m_top under Icarus + cocotb, {cycles} simulated cycles per load (10 ns clock)")
    print(f"{'load':<10} {'gpi clock (cyc/s)':>18} {'python clock (cyc/s)':>21} {'ratio':>7}")
    for load in ("quiet", "idle", "readout"):
        g, p = res["gpi"][f"{load}_cycles_per_s"], res["py"][f"{load}_cycles_per_s"]
        print(f"{load:<10} {g:>18,.0f} {p:>21,.0f} {g / p:>6.1f}x")
    g, p = res["gpi"]["readout_events_per_s"], res["py"]["readout_events_per_s"]
    print(f"{'AER ev/s':<10} {g:>18,.0f} {p:>21,.0f} {g / p:>6.1f}x  (readout load)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
