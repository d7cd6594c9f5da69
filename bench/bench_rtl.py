"""Co-simulation speed of `p2m_top` (cocotb + tb/hdl agents), measured side by side in one run.

* real-time factor (wall seconds per second of sensor time) on one N-MNIST-sized sample
  (34 x 34 -> 32 x 16 x 16, 30 windows of 10 ms = 300 ms, readout clock 100 MHz) under
  Icarus and under Verilator, with the HDL agents (goals: <= 1 and <= 0.1);
* readout-heavy load (20 us windows, ~1,000 spikes each, immediate receiver) under Icarus:
  readout clk cycles per wall second with the HDL agents and with the Python agents (the
  testbench's per-spike path; 27 k cycles/s was measured on it before the HDL agents),
  and the ratio (goal: >= 10x 27 k).

The loads are tb/bench_rtl_tb.py. Builds are cached (the first Verilator build takes about a
minute and is not timed). Prints a table; no assertion (machines are noisy).
Knob: ``BENCH_SIMS=icarus`` skips Verilator.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tb.run import REPO, build, run_test  # noqa: E402

BASELINE_CYCLES_PER_S = 27_000  # readout-heavy load, Python agents, before the HDL agents


SLOW_CLOCKS = {"1 MHz": 1_000_000, "100 kHz": 10_000_000}  # clk_slow periods (ps)


def measure(load: str, sim: str, slow_ps: int = 1_000_000) -> dict:
    params = {"SLOW_PERIOD_PS": slow_ps} if slow_ps != 1_000_000 else None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.json"
        run_test("bench_rtl_tb", seed=1, sim=sim, parameters=params,
                 build_dir=REPO / "sim_build" / f"bench_{load}_{sim}_{slow_ps}",
                 extra_env={"P2M_BENCH_LOAD": load, "P2M_BENCH_OUT": str(out),
                            "COCOTB_LOG_LEVEL": "WARNING"},
                 quiet=True, log_file=Path(tmp) / "sim.log")
        return json.loads(out.read_text())


def main() -> int:
    sims = os.environ.get("BENCH_SIMS", "icarus,verilator").split(",")
    for sim in sims:  # build first: build time is not simulation speed
        for slow_ps in SLOW_CLOCKS.values():
            build("p2m_tb", sim, {"SLOW_PERIOD_PS": slow_ps} if slow_ps != 1_000_000 else None)
    res = {}
    for sim in sims:
        for name, slow_ps in SLOW_CLOCKS.items():
            res[("nmnist", sim, name)] = measure("nmnist", sim, slow_ps)
    for load in ("readout_hdl", "readout_py"):
        res[(load, "icarus")] = measure(load, "icarus")
    n = res[("nmnist", sims[0], "1 MHz")]
    print(f"N-MNIST-sized sample ({n['source']}): {n['events']} events, {n['windows']} windows "
          f"of 10 ms, {n['spikes']} spikes, {n['sensor_s'] * 1000:.0f} ms of sensor time")
    print(f"{'simulator':<10} {'clk_slow':>8} {'wall (s)':>9} {'real-time factor':>17} "
          f"{'clk edges':>10} {'clk_slow edges':>15}")
    for sim in sims:
        for name in SLOW_CLOCKS:
            r = res[("nmnist", sim, name)]
            print(f"{sim:<10} {name:>8} {r['wall_s']:>9.3f} {r['rtf']:>17.3f} "
                  f"{r['clk_edges']:>10,} {r['slow_edges']:>15,}")
    if len(sims) > 1:
        for name in SLOW_CLOCKS:
            a, b = res[("nmnist", sims[0], name)], res[("nmnist", sims[1], name)]
            print(f"{sims[1]} / {sims[0]} speed-up ({name}): {a['wall_s'] / b['wall_s']:.1f}x")
    h, p = res[("readout_hdl", "icarus")], res[("readout_py", "icarus")]
    print(f"readout-heavy load under Icarus ({h['spikes']} spikes in {h['windows']} windows):")
    print(f"  HDL agents    {h['clk_cycles_per_s']:>10,.0f} cycles/s")
    print(f"  Python agents {p['clk_cycles_per_s']:>10,.0f} cycles/s")
    print(f"  ratio {h['clk_cycles_per_s'] / p['clk_cycles_per_s']:.1f}x side by side; "
          f"{h['clk_cycles_per_s'] / BASELINE_CYCLES_PER_S:.1f}x the 27 k cycles/s baseline")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
