"""Co-simulation speed of `p2m_top` (cocotb + tb/hdl agents), measured side by side in one run.

* real-time factor (wall seconds per second of sensor time) on one N-MNIST-sized sample
  (34 x 34 -> 32 x 16 x 16, 30 windows of 10 ms = 300 ms, readout clock 100 MHz) under
  Icarus and under Verilator, with the HDL agents (goals: <= 1 and <= 0.1);
* readout-heavy load (20 us windows, ~1,000 spikes each, immediate receiver) under Icarus:
  readout clk cycles per wall second with the HDL agents and with the Python agents (the
  testbench's per-spike path; 27 k cycles/s was measured on it before the HDL agents),
  and the ratio (goal: >= 10x 27 k).

* the same at slower always-on clocks (100 kHz, 32 kHz: the window timer counts 10 ms in
  1,000 / 320 ticks), because the slow clock's edges are a fixed cost per sensor second;
* Verilator with every signal public (cocotb's default ``--public-flat-rw``) beside our
  build (only what the testbench touches is public, tb.run.verilator_public);
* the floor without cocotb: tb/hdl/speed_harness.v (the same toplevel p2m_tb, driven from
  Verilog) under Icarus (vvp) and Verilator (--binary): 300 ms of idle windows at 1 MHz, and
  the readout-heavy load (every flag set, the HDL receiver without delays) in cycles/s;
* the simulation-speed guards of the RTL (docs/rtl.md "Simulation speed"): the harness with
  the RTL of ``REFERENCE_REV`` (before them, from git) and with the working tree's,
  interleaved, as a speed-up.

The loads are tb/bench_rtl_tb.py. Builds are cached (the first Verilator build takes about a
minute and is not timed). Prints a table; no assertion (machines are noisy).
Knobs: ``BENCH_SIMS=icarus`` skips Verilator; ``BENCH_QUICK=1`` only the 1 MHz sample.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tb.run import (  # noqa: E402
    REPO,
    VERILATOR_CFLAGS,
    build,
    read_files_f,
    run_test,
    verilator_root,
)

sys.path.insert(0, str(REPO / "scripts"))
from yosys_equiv import rtl_at  # noqa: E402

BASELINE_CYCLES_PER_S = 27_000  # readout-heavy load, Python agents, before the HDL agents


#: clk_slow periods (ps): the nominal 1 MHz, 100 kHz, and 32 kHz (a watch-crystal class clock)
SLOW_CLOCKS = {"1 MHz": 1_000_000, "100 kHz": 10_000_000, "32 kHz": 31_250_000}


def measure(load: str, sim: str, slow_ps: int = 1_000_000, public_all: bool = False) -> dict:
    params = {"SLOW_PERIOD_PS": slow_ps} if slow_ps != 1_000_000 else None
    old = os.environ.get("P2M_VERILATOR_PUBLIC")
    if public_all:
        os.environ["P2M_VERILATOR_PUBLIC"] = "all"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "bench.json"
            tag = f"bench_{load}_{sim}_{slow_ps}" + ("_public" if public_all else "")
            run_test("bench_rtl_tb", seed=1, sim=sim, parameters=params,
                     build_dir=REPO / "sim_build" / tag,
                     extra_env={"P2M_BENCH_LOAD": load, "P2M_BENCH_OUT": str(out),
                                "COCOTB_LOG_LEVEL": "WARNING"},
                     quiet=True, log_file=Path(tmp) / "sim.log")
            return json.loads(out.read_text())
    finally:
        if public_all:
            if old is None:
                os.environ.pop("P2M_VERILATOR_PUBLIC", None)
            else:
                os.environ["P2M_VERILATOR_PUBLIC"] = old


#: the RTL before the simulation-speed guards (docs/rtl.md "Simulation speed"): the harness
#: runs it beside the working tree's (same testbench files), so the ratio is side by side
REFERENCE_REV = "0605f1a"


def reference_rtl(rev: str) -> list[str] | None:
    """The RTL sources of git revision ``rev`` in sim_build (absolute paths), or None when
    the checkout has no such revision (a shallow clone, no git)."""
    try:
        return [str(REPO / p) for p in rtl_at(rev, REPO / "sim_build" / f"rtl_ref_{rev}")]
    except (OSError, subprocess.CalledProcessError):
        return None


def harness(sim: str, en: int, run_us: int, wlen: int, delay_ps: int = 0,
            rtl: list[str] | None = None) -> dict:
    """tb/hdl/speed_harness.v without cocotb (with the RTL sources ``rtl``, default the
    working tree's): CPU seconds, edge and event counts. Builds are cached by content."""
    srcs = (rtl or [str(p) for p in read_files_f()]) + [
        str(REPO / "tb" / "hdl" / f) for f in ("p2m_tb_agents.v", "p2m_tb.v", "speed_harness.v")]
    defs = [f"-DEN={en}", f"-DRUN_US={run_us}", f"-DWLEN={wlen}", f"-DDELAY_PS={delay_ps}"]
    key = hashlib.sha256("\0".join([sim, *defs, *VERILATOR_CFLAGS]
                                   + [Path(f).read_text() for f in srcs])
                         .encode()).hexdigest()[:12]
    bdir = REPO / "sim_build" / f"harness_{sim}_{key}"
    bdir.mkdir(parents=True, exist_ok=True)
    if sim == "icarus":
        exe = bdir / "speed.vvp"
        if not exe.is_file():
            subprocess.run(["iverilog", "-g2012", "-o", str(exe), *defs, *srcs], check=True)
        cmd = ["vvp", "-n", str(exe)]
    else:
        root = verilator_root()
        env = dict(os.environ, VERILATOR_ROOT=str(root))
        exe = bdir / "vsh"
        if not exe.is_file():
            subprocess.run([str(root / "bin" / "verilator_bin"), "--binary", "--timing",
                            "-Wno-fatal", "-Wno-lint", "-Wno-style", "-Wno-TIMESCALEMOD",
                            *VERILATOR_CFLAGS,
                            "--top-module", "speed_harness", "-Mdir", str(bdir), "-o", "vsh",
                            *defs, *srcs], check=True, env=env, capture_output=True)
        cmd = [str(exe)]
    t0, c0 = time.perf_counter(), os.times()
    text = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    c1 = os.times()
    m = re.search(r"clk_edges=(\d+) clk_slow_edges=(\d+) samples=\d+ events=(\d+)", text)
    return {"wall_s": time.perf_counter() - t0,
            "cpu_s": (c1.children_user + c1.children_system)
            - (c0.children_user + c0.children_system),
            "clk_edges": int(m.group(1)), "slow_edges": int(m.group(2)),
            "events": int(m.group(3))}


def guards_side_by_side(sim: str = "icarus", rev: str = REFERENCE_REV) -> None:
    """The RTL of ``rev`` and the working tree's in the same harness, interleaved, the faster
    of two runs each: readout-heavy (immediate receiver, and 0-20 ns delays) and idle."""
    ref = reference_rtl(rev)
    if ref is None:
        print(f"  (RTL of {rev} not in this checkout: side-by-side comparison skipped)")
        return
    loads = {"readout-heavy, immediate receiver": (1, 2_000, 200, 0),
             "readout-heavy, receiver 0-20 ns": (1, 2_000, 200, 20_000),
             "300 ms idle at 1 MHz": (0, 300_000, 10_000, 0)}
    for name, (en, run_us, wlen, dly) in loads.items():
        best = {"ref": float("inf"), "now": float("inf")}
        for _ in range(2):
            for tag, rtl in (("ref", ref), ("now", None)):
                best[tag] = min(best[tag], harness(sim, en, run_us, wlen, dly, rtl)["cpu_s"])
        print(f"  {name:<36} RTL {rev}: {best['ref']:.3f} s, now: {best['now']:.3f} s, "
              f"speed-up {best['ref'] / best['now']:.2f}x")


def main() -> int:
    sims = os.environ.get("BENCH_SIMS", "icarus,verilator").split(",")
    quick = os.environ.get("BENCH_QUICK", "").strip() not in ("", "0")
    slows = {"1 MHz": SLOW_CLOCKS["1 MHz"]} if quick else SLOW_CLOCKS
    for sim in sims:  # build first: build time is not simulation speed
        for slow_ps in slows.values():
            build("p2m_tb", sim, {"SLOW_PERIOD_PS": slow_ps} if slow_ps != 1_000_000 else None)
    res = {}
    for sim in sims:
        for name, slow_ps in slows.items():
            res[("nmnist", sim, name)] = measure("nmnist", sim, slow_ps)
    if "verilator" in sims and not quick:
        res[("nmnist", "verilator", "public")] = measure("nmnist", "verilator", public_all=True)
    for load in ("readout_hdl", "readout_py"):
        res[(load, "icarus")] = measure(load, "icarus")
    if "verilator" in sims:
        res[("readout_hdl", "verilator")] = measure("readout_hdl", "verilator")
    n = res[("nmnist", sims[0], "1 MHz")]
    print(f"N-MNIST-sized sample ({n['source']}): {n['events']} events, {n['windows']} windows "
          f"of 10 ms, {n['spikes']} spikes, {n['sensor_s'] * 1000:.0f} ms of sensor time")
    print(f"{'simulator':<24} {'clk_slow':>8} {'wall (s)':>9} {'real-time factor':>17} "
          f"{'clk edges':>10} {'clk_slow edges':>15}")
    for (_load, sim, name), r in [(k, v) for k, v in res.items() if k[0] == "nmnist"]:
        label = sim + (" (all signals public)" if name == "public" else "")
        slow = "1 MHz" if name == "public" else name
        print(f"{label:<24} {slow:>8} {r['wall_s']:>9.3f} {r['rtf']:>17.3f} "
              f"{r['clk_edges']:>10,} {r['slow_edges']:>15,}")
    if len(sims) > 1:
        for name in slows:
            a, b = res[("nmnist", sims[0], name)], res[("nmnist", sims[1], name)]
            print(f"{sims[1]} / {sims[0]} speed-up ({name}): {a['wall_s'] / b['wall_s']:.1f}x")
    h, p = res[("readout_hdl", "icarus")], res[("readout_py", "icarus")]
    print(f"readout-heavy load ({h['spikes']} spikes in {h['windows']} windows), readout clk "
          "cycles per wall second:")
    print(f"  Icarus, HDL agents       {h['clk_cycles_per_s']:>10,.0f}")
    print(f"  Icarus, Python agents    {p['clk_cycles_per_s']:>10,.0f}")
    if ("readout_hdl", "verilator") in res:
        v = res[("readout_hdl", "verilator")]
        print(f"  Verilator, HDL agents    {v['clk_cycles_per_s']:>10,.0f}")
    print(f"  Icarus HDL / Python agents {h['clk_cycles_per_s'] / p['clk_cycles_per_s']:.1f}x "
          f"side by side; {h['clk_cycles_per_s'] / BASELINE_CYCLES_PER_S:.1f}x the 27 k "
          "cycles/s baseline (goal 10x)")
    print(f"the simulation-speed guards, {sims[0]} without cocotb (tb/hdl/speed_harness.v), "
          "CPU seconds side by side:")
    guards_side_by_side(sims[0])
    print("without cocotb (tb/hdl/speed_harness.v), CPU seconds:")
    for sim in sims:
        idle = harness(sim, 0, 300_000, 10_000)
        busy = harness(sim, 1, 2_000, 200)
        print(f"  {sim:<9} 300 ms idle at 1 MHz: {idle['cpu_s']:.3f} s (real-time factor "
              f"{idle['cpu_s'] / 0.3:.2f}, {idle['cpu_s'] / idle['slow_edges'] * 1e6:.2f} us per "
              f"clk_slow edge); readout-heavy: {busy['clk_edges'] / busy['cpu_s']:,.0f} "
              "cycles/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
