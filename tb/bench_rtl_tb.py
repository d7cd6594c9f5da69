"""cocotb module of the RTL speed benchmark (bench/bench_rtl.py runs it through tb.run).

Environment knobs: ``P2M_CLOCK_IMPL`` = ``gpi`` (clock inside the simulator, Python asleep
except at boundary events) or ``py`` (a Python coroutine toggles ``clk``: the baseline);
``P2M_BENCH_CYCLES`` simulated cycles per load (default 100,000); ``P2M_BENCH_OUT`` JSON file
for the results.

Loads: ``quiet`` (CTRL.EN = 0: only the clock), ``idle`` (CTRL.EN = 1, 2,000-cycle windows
with no spike: window timer, sampling, 32 empty channel selections per window) and
``readout`` (TICK_DIV = 1, 2,000-tick windows, about 1,000 random spikes per window read out
over AER with an immediate receiver, reset pulses, full scoreboard and protocol checks).
"""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pyuvm
from cocotb.triggers import Timer

from tb.common import CLK_PERIOD_NS, N_CH, N_NEUR, env_int
from tb.env import P2mBaseTest


@pyuvm.test()
class BenchRtl(P2mBaseTest):
    """Simulated cycles per wall second for the idle and the readout-heavy load."""

    BACKPRESSURE = "none"
    CLOCK_IMPL = os.environ.get("P2M_CLOCK_IMPL", "gpi")

    async def body(self) -> None:
        cycles = env_int("P2M_BENCH_CYCLES", 100_000)
        out: dict[str, float] = {"clock_impl": self.CLOCK_IMPL, "cycles": cycles}
        # quiet: CTRL.EN = 0, nothing but the clock
        t0 = time.perf_counter()
        await Timer(cycles * CLK_PERIOD_NS, unit="ns")  # no Python wake-up per edge
        out["quiet_cycles_per_s"] = cycles / (time.perf_counter() - t0)
        # idle: windows with no spikes
        self.env.ana.queue.extend([np.zeros((N_CH, N_NEUR), bool)] * 10_000)
        await self.env.configure(tick_div=1, window_len=2_000, rst_width=4)
        await self.regs.write("CTRL", 1)
        t0 = time.perf_counter()
        await Timer(cycles * CLK_PERIOD_NS, unit="ns")  # no Python wake-up per edge
        out["idle_cycles_per_s"] = cycles / (time.perf_counter() - t0)
        self.env.ana.queue.clear()
        # readout-heavy: random flags, ~1,000 spikes per window
        ev0 = self.env.aer_mon.n_events
        t0 = time.perf_counter()
        await Timer(cycles * CLK_PERIOD_NS, unit="ns")  # no Python wake-up per edge
        dt = time.perf_counter() - t0
        out["readout_cycles_per_s"] = cycles / dt
        out["readout_events"] = self.env.aer_mon.n_events - ev0
        out["readout_events_per_s"] = out["readout_events"] / dt
        await self.regs.write("CTRL", 0)
        await self.env.wait_readout_idle()
        path = os.environ.get("P2M_BENCH_OUT")
        if path:
            with open(path, "w") as f:
                json.dump(out, f)
        self.logger.info(f"bench: {out}")
