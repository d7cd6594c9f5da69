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


def measure(load: str, sim: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.json"
        run_test("bench_rtl_tb", seed=1, sim=sim,
                 build_dir=REPO / "sim_build" / f"bench_{load}_{sim}",
                 extra_env={"P2M_BENCH_LOAD": load, "P2M_BENCH_OUT": str(out),
                            "COCOTB_LOG_LEVEL": "WARNING"},
                 quiet=True, log_file=Path(tmp) / "sim.log")
        return json.loads(out.read_text())


def main() -> int:
    sims = os.environ.get("BENCH_SIMS", "icarus,verilator").split(",")
    for sim in sims:  # build first: build time is not simulation speed
        build("p2m_tb", sim)
    res = {}
    for sim in sims:
        res[("nmnist", sim)] = measure("nmnist", sim)
    for load in ("readout_hdl", "readout_py"):
        res[(load, "icarus")] = measure(load, "icarus")
    n = res[("nmnist", sims[0])]
    print(f"N-MNIST-sized sample ({n['source']}): {n['events']} events, {n['windows']} windows "
          f"of 10 ms, {n['spikes']} spikes, {n['sensor_s'] * 1000:.0f} ms of sensor time")
    print(f"{'simulator':<10} {'wall (s)':>9} {'real-time factor':>17} {'clk edges':>10} "
          f"{'clk_slow edges':>15}")
    for sim in sims:
        r = res[("nmnist", sim)]
        print(f"{sim:<10} {r['wall_s']:>9.3f} {r['rtf']:>17.3f} {r['clk_edges']:>10,} "
              f"{r['slow_edges']:>15,}")
    if len(sims) > 1:
        a, b = res[("nmnist", sims[0])], res[("nmnist", sims[1])]
        print(f"{sims[1]} / {sims[0]} speed-up on the sample: {a['wall_s'] / b['wall_s']:.1f}x")
    h, p = res[("readout_hdl", "icarus")], res[("readout_py", "icarus")]
    print(f"readout-heavy load under Icarus ({h['spikes']} spikes in {h['windows']} windows):")
    print(f"  HDL agents    {h['clk_cycles_per_s']:>10,.0f} cycles/s")
    print(f"  Python agents {p['clk_cycles_per_s']:>10,.0f} cycles/s")
    print(f"  ratio {h['clk_cycles_per_s'] / p['clk_cycles_per_s']:.1f}x side by side; "
          f"{h['clk_cycles_per_s'] / BASELINE_CYCLES_PER_S:.1f}x the 27 k cycles/s baseline")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
