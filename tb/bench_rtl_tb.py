"""cocotb module of the RTL speed benchmark (bench/bench_rtl.py runs it through tb.run).

Knobs (tb.config.RunConfig.knobs): ``P2M_BENCH_LOAD`` and ``P2M_BENCH_OUT`` (JSON file
for the results). Loads:

* ``nmnist``: one N-MNIST-sized sample (34 x 34 sensor -> 32 x 16 x 16, 30 windows of
  10 ms = 300 ms of sensor time, 1 MHz clk_slow, 100 MHz readout clock), flags from an ideal
  first layer (tb.stimulus), the HDL agents (one Python wake-up per window; the receiver
  answers each handshake edge after 0-20 ns): wall seconds per sensor second (the real-time
  factor);
* ``readout_hdl`` / ``readout_py``: the readout-heavy load (TICK_DIV = 1, 20 us windows
  shorter than their readouts, ~1,000 random spikes per window, an immediate receiver)
  with the HDL agents / with the Python agents (receiver, monitor, analog agent and
  scoreboard: the testbench before the HDL agents): readout clk cycles per wall second.
"""

from __future__ import annotations

import json
import time

import cocotb
import numpy as np
import pyuvm
from cocotb.triggers import Event, RisingEdge

from tb.analog_agent import FlagModel
from tb.common import np_rng, run_config
from tb.env import P2mBaseTest
from tb.hdl_agents import HdlReadout
from tb.stimulus import nmnist_sample, sample_flags

READOUT_WEIGHTS = (0.3, 0.2, 0.2, 0.2, 0.1, 0.0)  # ~1,000 spikes per window


@pyuvm.test()
class BenchRtl(P2mBaseTest):
    """One load (``P2M_BENCH_LOAD``); results into ``P2M_BENCH_OUT``."""

    BACKPRESSURE = "none"

    def build_phase(self) -> None:
        self.load = run_config().knobs.get("P2M_BENCH_LOAD", "nmnist")
        self.HDL_AGENTS = self.load != "readout_py"
        super().build_phase()

    async def _serve(self, hdl: HdlReadout, windows: list[np.ndarray], done: Event) -> None:
        k = 0
        while True:
            await RisingEdge(self.dut.ana_sample)
            t0 = time.perf_counter()
            hdl.check_window()
            hdl.write_flags(windows[k] if k < len(windows) else self.geo.zeros())
            self.python_s += time.perf_counter() - t0
            k += 1
            if k >= len(windows):
                done.set()

    async def body(self) -> None:
        dut, out = self.dut, {"load": self.load, "sim": self.run_cfg.sim}
        self.python_s = 0.0  # wall seconds in the per-window Python (check + flags)
        if self.load == "nmnist":
            ev, sensor, src = nmnist_sample(0)
            n_win, win_us = 30, 10_000
            flags = sample_flags(ev, sensor, self.geo, win_us, n_win, seed=1)
            out.update(source=src, events=int(ev.size), windows=n_win,
                       spikes=int(flags.sum()), sensor_s=n_win * win_us / 1e6)
            windows = list(flags)
            # 10 ms windows in ticks of the toplevel's clk_slow (1 MHz: 10,000; 100 kHz: 1,000)
            tick, wlen = 1, win_us * 1_000_000 // self.timing.slow_period_ps
            out["slow_period_ps"] = self.timing.slow_period_ps
        else:
            model = FlagModel(np_rng("bench"), READOUT_WEIGHTS, self.geo)
            windows = [model.window() for _ in range(40)]
            out.update(windows=40, spikes=int(sum(w.sum() for w in windows)))
            tick, wlen = 1, 20
        await self.env.configure(tick_div=tick, window_len=wlen, rst_width=4)
        if self.HDL_AGENTS:
            hdl = HdlReadout(dut, self.geo, self.timing)
            hdl.rst_width = 4
            hdl.enable(self.seed, max_ack_ns=20 if self.load == "nmnist" else 0,
                       max_rel_ns=20 if self.load == "nmnist" else 0)
            done = Event()
            task = cocotb.start_soon(self._serve(hdl, windows, done))
        else:
            self.env.ana.queue.extend(windows)
        e0, s0 = int(dut.u_clk_src.edges.value), int(dut.u_slow.edges.value)
        t0 = time.perf_counter()
        await self.regs.write("CTRL", 1)
        if self.HDL_AGENTS:
            await done.wait()
        else:
            await self.env.wait_windows(len(windows))
        await self.regs.write("CTRL", 0)
        await self.env.wait_readout_idle()
        wall = time.perf_counter() - t0
        clk = int(dut.u_clk_src.edges.value) - e0
        out.update(wall_s=wall, clk_edges=clk, slow_edges=int(dut.u_slow.edges.value) - s0,
                   clk_cycles_per_s=clk / wall)
        if self.HDL_AGENTS:
            task.cancel()
            hdl.check_window()
            hdl.check_protocol()
            out["events_checked"] = hdl.events
            out["python_s"] = self.python_s
        if "sensor_s" in out:
            out["rtf"] = wall / out["sensor_s"]
        path = self.run_cfg.knobs.get("P2M_BENCH_OUT")
        if path:
            with open(path, "w") as f:
                json.dump(out, f)
        self.logger.info(f"bench: {out}")
