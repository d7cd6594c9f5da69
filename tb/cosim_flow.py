"""The closed-loop flow of a co-simulation, as coroutines on a :class:`tb.env.P2mEnv` with an
:class:`tb.analog_bridge.AnalogBridge` (the chip-level tests and ``tb.cosim`` use it):

1. :func:`program` : every weight and threshold device of a chip configuration written over
   APB (tb.program_chip: PROG_ADDR, PROG_CODE, PROG_CMD.START, PROG_DONE through irq); the
   RTL emits the pulses, the bridge moves the devices; then the bridge's chip must equal the
   chip built from the file, tick for tick (:func:`tb.bridge_core.programming_mismatch`);
2. :func:`configure` : windows of the configuration's ``window_us`` (TICK_DIV = 1 and
   WINDOW_LEN = window_us x 1 us / clk_slow period), RST_WIDTH;
3. :func:`stream_sample` : a global reset (CTRL.GRST, nominal width), CTRL.EN = 1, the
   sample's events scheduled from the window timer's origin S0, T windows, CTRL.EN = 0, the
   last readout drained: the sample's :class:`tb.analog_bridge.SampleRecord`.

Nothing touches the chip between two window ends while a sample streams (no APB access):
the readout clock then starts only for the chip's own requests, so the latch and reset
instants are the documented ones (tb.readout_timing).

:class:`Watchdog`: a wall-clock guard per stage of a simulation (the programming, each
sample: each must end within ``timeout_s``, whatever the number of samples); when it
expires it writes where the simulation stopped (the last progress it was told) to a JSON
file and ends the process (exit status 124), so a hung simulation is reported, not waited
for.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import numpy as np
from cocotb.triggers import Timer, with_timeout

from analog_models.chip_config import ChipConfig
from tb import regs
from tb.analog_bridge import AnalogBridge, SampleRecord
from tb.bridge_core import PS_PER_US, programming_mismatch
from tb.common import now_ps
from tb.env import P2mBaseTest
from tb.program_chip import program_chip

#: RST_WIDTH of the global reset before each sample: the reset value (160 ns at 100 MHz,
#: the golden model's nominal global reset).
GRST_WIDTH = 16
#: HDL receiver delays (ns, uniform per half handshake: acknowledge, release) of each
#: backpressure profile; "none" answers at once (L = 0: 6 cycles per AER event).
BACKPRESSURE_NS = {"none": (0.0, 0.0), "random": (120.0, 80.0)}
#: Margin after the last window end before CTRL.EN is cleared (the latch comes <= 0.3 us
#: after it; an APB access before it would start the clock early and move the latch).
END_MARGIN_PS = 2 * PS_PER_US


async def program(env, bridge: AnalogBridge, config: ChipConfig | str | Path) -> dict:
    """Program ``config`` through APB with the bridge serving the pulses; AssertionError
    when the bridge's devices then differ from the chip built from the file. Returns
    ``{"commands", "prog_pulses", "wall_s"}``."""
    cfg = config if isinstance(config, ChipConfig) else ChipConfig.load(config)
    t0 = time.perf_counter()
    p0 = bridge.core.counters.prog_pulses
    n = await program_chip(env, cfg)
    await env.cycles(2)  # the last pulse's fall has been served
    bad = programming_mismatch(bridge.core, cfg)
    if bad:
        raise AssertionError(f"after programming {n} devices over APB: {bad}")
    return {"commands": n, "prog_pulses": bridge.core.counters.prog_pulses - p0,
            "wall_s": time.perf_counter() - t0}


def window_ticks(window_us: int, slow_period_ps: int) -> int:
    """WINDOW_LEN (with TICK_DIV = 1) of a window of ``window_us`` at the given clk_slow."""
    ticks, rem = divmod(int(window_us) * PS_PER_US, int(slow_period_ps))
    if rem or not 1 <= ticks < 2**24:
        raise ValueError(f"window_us: {window_us} us is not a whole number of clk_slow "
                         f"periods ({slow_period_ps} ps) that fits WINDOW_LEN (24 bits)")
    return ticks


async def configure(env, window_us: int, rst_width: int = 16) -> None:
    """TICK_DIV = 1, WINDOW_LEN for ``window_us``, RST_WIDTH (and wait for the slow domain)."""
    await env.configure(tick_div=1, window_len=window_ticks(window_us,
                                                            env.timing.slow_period_ps),
                        rst_width=rst_width)


async def global_reset(env, rst_width: int = GRST_WIDTH, timeout_us: float = 1000) -> None:
    """CTRL.GRST with RST_WIDTH = ``rst_width`` (EN cleared by the same write), then wait
    until STATUS.GRST_BUSY is 0."""
    r = env.regs
    if r.value("RST_WIDTH") != rst_width:
        await r.write("RST_WIDTH", rst_width)
    await r.write("CTRL", regs.reg("CTRL").field("GRST").mask)
    env.sb.expect_global(rst_width)
    f = regs.reg("STATUS").field("GRST_BUSY")

    async def _wait() -> None:
        while f.get(await r.read("STATUS")):
            await env.cycles(8)

    await with_timeout(_wait(), timeout_us, "us")


def sample_origin_ps(timing, t_en_edge_ps: int) -> int:
    """S0: the clk_slow edge at which the window timer is zeroed after the CTRL.EN write at
    APB access edge ``t_en_edge_ps`` (rtl/REGISTERS.md "Timing": sent at E+1, arrives at
    the 3rd slow edge after it, zeroed at the next one)."""
    s1 = timing.next_slow_edge(t_en_edge_ps + timing.clk_period_ps)
    return s1 + 3 * timing.slow_period_ps


async def start_windows(env) -> int:
    """CTRL.EN = 1 at a known edge; returns S0 (:func:`sample_origin_ps`). It waits first
    until the slow domain holds the last configuration: a CTRL.EN = 0 still crossing (a
    previous sample that drained quickly) would hold the EN write back until that transfer
    completes (REGISTERS.md "Latencies"), and the window grid would start 3 slow periods
    after S0."""
    await env.wait_cfg_synced()
    item = await env.regs.write("CTRL", regs.reg("CTRL").field("EN").mask)
    return sample_origin_ps(env.timing, item.t_ps)


async def stream_sample(env, bridge: AnalogBridge, events: np.ndarray, T: int, window_us: int,
                        rst_width: int = 16, progress=None) -> SampleRecord:
    """One sample through the chip (module docstring, step 3). ``progress``: a callable
    told ``(stage, **info)`` (the watchdog)."""
    r = env.regs
    await global_reset(env)
    if r.value("RST_WIDTH") != rst_width:
        await r.write("RST_WIDTH", rst_width)
    bridge.rst_width = rst_width
    t0 = await start_windows(env)
    bridge.begin_sample(events, t0, T, window_us)
    if progress:
        progress("stream", t0_ps=t0, T=T)
    t_end = t0 + T * window_us * PS_PER_US + END_MARGIN_PS
    await Timer(t_end - now_ps(), unit="ps")
    await env.stop_windows()
    if progress:
        progress("drained")
    return bridge.end_sample()


class Watchdog:
    """Wall-clock guard (module docstring): ``update(stage, **where)`` records progress, and
    a stage in ``restart`` (a new sample, the programming) gets ``timeout_s`` seconds of its
    own; ``stop()`` disarms it. On expiry: ``{"timeout_s", "elapsed_s", "where"}`` into
    ``path``, then ``os._exit(124)``."""

    def __init__(self, timeout_s: float | None, path: str | Path | None,
                 restart: tuple[str, ...] = ("program", "sample")) -> None:
        self.timeout_s, self.path = timeout_s, Path(path) if path else None
        self.restart = restart
        self.where: dict = {"stage": "start"}
        self._done = threading.Event()
        self._t0 = time.monotonic()
        self._deadline = self._t0 + (timeout_s or 0.0)
        if timeout_s:
            threading.Thread(target=self._run, daemon=True, name="p2m-watchdog").start()

    def update(self, stage: str, **info) -> None:
        self.where = {"stage": stage, "t_sim_ps": now_ps(), **info}
        if self.timeout_s and stage in self.restart:
            self._deadline = time.monotonic() + self.timeout_s

    def stop(self) -> None:
        self._done.set()

    def _run(self) -> None:
        while (left := self._deadline - time.monotonic()) > 0:
            if self._done.wait(left):
                return
        if self.path is not None:
            doc = {"timeout_s": self.timeout_s, "elapsed_s": time.monotonic() - self._t0,
                   "where": self.where}
            self.path.write_text(json.dumps(doc, default=str) + "\n")
        os._exit(124)


class CosimTest(P2mBaseTest):
    """Base of the closed-loop tests: the HDL agents serve the per-spike paths, an
    :class:`AnalogBridge` the analog boundary. Helpers: :meth:`start_bridge`,
    :meth:`run_and_score` (stream one sample and score it against the golden chip mode)."""

    HDL_AGENTS = True
    BACKPRESSURE = "none"

    def start_bridge(self, config: ChipConfig, *, backpressure: str = "none",
                     per_event: bool = False, tap_interval_us: float | None = None,
                     rst_width: int = 16) -> AnalogBridge:
        """A bridge for ``config`` with the HDL receiver's ``backpressure`` profile
        (:data:`BACKPRESSURE_NS`), started."""
        if self.run_cfg.waves and tap_interval_us is None:
            tap_interval_us = config.window_us / 64
        bridge = AnalogBridge(self.dut, self.geo, self.timing, config, per_event=per_event,
                              tap_interval_us=tap_interval_us, rst_width=rst_width)
        bridge.start(self.seed, *BACKPRESSURE_NS[backpressure])
        self.bridge = bridge
        return bridge

    def set_backpressure(self, backpressure: str) -> None:
        """Change the HDL receiver's delays (between samples)."""
        ack, rel = BACKPRESSURE_NS[backpressure]
        self.bridge.hdl.rx.max_ack_ps.value = int(ack * 1000)
        self.bridge.hdl.rx.max_rel_ps.value = int(rel * 1000)

    async def run_and_score(self, config: ChipConfig, events: np.ndarray, T: int, *,
                            rst_width: int = 16, net=None, progress=None) -> dict:
        """Stream ``events`` through the chip and score them (tb.chip_scoreboard); adds the
        bridge's wake-ups, the wall and sensor seconds, the real-time factor and CNT_OVERRUN
        to the scoreboard's dict."""
        from tb.chip_scoreboard import aer_list, score_sample

        bridge = self.bridge
        W = int(config.window_us)
        if bridge.tap_interval_us:
            await self.probe_active_neuron(config, events, T)
        wk0 = sum(bridge.wakeups.values())
        ov0 = await self.regs.read("CNT_OVERRUN")
        rec = await stream_sample(self.env, bridge, events, T, W, rst_width, progress)
        overrun = await self.regs.read("CNT_OVERRUN") - ov0
        r = score_sample(config, events, rec, self.geo, self.timing, rst_width, 0, net)
        wk = sum(bridge.wakeups.values()) - wk0
        sensor_s = T * W / 1e6
        r.update(seed=self.seed, aer_spikes=aer_list(rec, self.geo), stream_wall_s=rec.wall_s,
                 sim_time_s=sensor_s, realtime_factor=rec.wall_s / sensor_s, wakeups=wk,
                 wakeups_per_window=wk / max(1, len(rec.windows)),
                 wakeups_per_event=wk / max(1, rec.events), overrun_windows=overrun,
                 aer_fifo_overflow=bridge.fifo_overflow)
        self.logger.info(summary_line(r))
        return r


    async def probe_active_neuron(self, config: ChipConfig, events: np.ndarray, T: int) -> None:
        """PROBE := a neuron that does not spike in the first window (not at rest) and
        spikes in about a third of the others (golden chip mode), so the taps show its
        membrane climbing, crossing V_th and resetting."""
        from golden.chip import ChipFirstLayer

        spikes = ChipFirstLayer(config, T).run(events)  # (T, C, OH, OW)
        counts = spikes.sum(axis=0)
        cost = np.abs(counts.astype(float) - max(1.0, T / 3)) + 10.0 * spikes[0] \
            + 10.0 * (counts == 0)
        ch, y, x = np.unravel_index(int(np.argmin(cost)), counts.shape)
        await self.regs.write("PROBE", self.geo.addr_pack(int(ch), int(y), int(x)))
        self.logger.info(f"PROBE = neuron (ch {ch}, y {y}, x {x}): it spikes in "
                         f"{int(counts[ch, y, x])} of {T} windows (golden chip mode)")


def summary_line(r: dict) -> str:
    """One line for the log: agreement, timing, speed of a scored sample."""
    cls = (f", class RTL {r['class_rtl']} / golden {r['class_golden']}"
           if "class_rtl" in r else "")
    return (f"sample: {sum(r['spikes_per_window'])} spikes in {r['T']} windows, "
            f"{r['spike_mismatches']} neuron-windows differ from the golden chip mode in "
            f"matched timing ({r['spike_mismatches_measured']} with the measured reset "
            f"instants), {r['reset_instant_deviations']} resets off the documented instant "
            f"(max {r['reset_shift_max_ns']:.0f} ns, {r['events_in_reset_shift']} events "
            f"between){cls}; {r['wakeups_per_window']:.2f} wake-ups/window, real-time factor "
            f"{r['realtime_factor']:.1f}, lost events {r['lost_events']}")
