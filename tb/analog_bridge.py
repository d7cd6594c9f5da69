"""The analog bridge: the chip's analog array (``analog_models``) serving the RTL boundary of
``p2m_top`` in a cocotb simulation, closed loop (docs/verification.md "The analog bridge").

A plain set of coroutines on the ``p2m_tb`` toplevel, with the HDL agents
(tb/hdl/p2m_tb_agents.v) in charge of the per-spike and per-channel paths: the HDL flag memory
answers ``ana_ch_sel`` with the flags the bridge latched, the HDL receiver acknowledges every
AER request (seeded delays) and stores each address, and the HDL log records every
``ana_rst`` pulse with its rise and fall times. The model side is
:class:`tb.bridge_core.BridgeCore` (one chip instance, everything applied in simulation
time order; the sensor-time -> simulation-time rule is in its docstring).

Python wakes at the RTL-visible moments only:

* each ``ana_sample`` (one wake-up per window): the previous readout's reset pulses are
  read from the HDL log and applied at their rise with the width the RTL produced (the
  events before each pulse first, as one batch), the previous window's AER addresses are
  read and checked against its latched flags (exact: order, no loss, no duplicate; one reset
  pulse per spiking channel, masks = flags), the events up to the latch edge (the ``clk``
  edge that ends the strobe) are applied as one batch, every comparator is latched and the
  flags are written into the HDL flag memory (N_CH words), the probed neuron's analog state
  is written to the taps;
* each ``ana_prog`` pulse (rise and fall; programming only): the weight or threshold device
  moves by the measured width;
* ``per_event=True`` (the check of the batching): one wake-up per distinct event timestamp
  at its simulation time, the events applied one by one (reference path) as they happen;
* ``tap_interval_us`` (waveforms): one wake-up per interval and one after each reset pulse,
  to draw the probed membrane climbing, crossing V_th and resetting.

Nothing of the model's work happens per event: events are applied in batches between two
of those moments. ``wakeups`` counts every Python wake-up of the bridge by kind.

Records (:class:`WindowRecord`, :class:`SampleRecord`): per window the latch time, the
flags, the AER addresses the receiver got and the reset pulses of its readout.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

import cocotb
import numpy as np
from cocotb.triggers import Event, FallingEdge, RisingEdge, Timer

from analog_models.chip_config import ChipConfig
from tb.bridge_core import PS_PER_US, BridgeCore
from tb.common import now_ps, sig_int
from tb.config import ClockTiming, Geometry
from tb.hdl_agents import HdlReadout, HdlReset, window_errors


@dataclass
class WindowRecord:
    """One sampled window: index ``k`` on the sample's window grid (window k ends at
    ``t0 + (k + 1) W``), latch time (ps), flags (N_CH, N_NEUR) bool, AER addresses received
    during its readout (in order), the reset pulses of its readout."""

    k: int
    t_latch_ps: int
    flags: np.ndarray
    aer: np.ndarray | None = None
    resets: list[HdlReset] = field(default_factory=list)


@dataclass
class SampleRecord:
    """One sample streamed through the chip: origin S0 (``t0_ps``), window length (us),
    windows asked for (``T``), events scheduled / dropped and the scheduled events'
    simulation times (ps), the sampled windows, the global reset pulses seen, and the wall
    seconds from :meth:`AnalogBridge.begin_sample` to :meth:`AnalogBridge.end_sample`."""

    t0_ps: int
    window_us: int
    T: int
    events: int
    dropped: int
    event_times_ps: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    windows: list[WindowRecord] = field(default_factory=list)
    global_resets: list[HdlReset] = field(default_factory=list)
    wall_s: float = 0.0


class AnalogBridge:
    """The bridge on ``top`` (p2m_tb); see the module docstring.

    ``config``: the chip configuration (a :class:`ChipConfig`); the chip starts unprogrammed
    (program it through APB). ``per_event``: events applied one by one at their times.
    ``tap_interval_us``: extra wake-ups for the waveform taps (None: taps at samples only).
    ``rst_width``: the RST_WIDTH the test programs (the per-window check of pulse widths)."""

    def __init__(self, top, geo: Geometry, timing: ClockTiming, config: ChipConfig, *,
                 per_event: bool = False, tap_interval_us: float | None = None,
                 rst_width: int = 16) -> None:
        self.top, self.geo, self.timing = top, geo, timing
        self.core = BridgeCore(config, per_event=per_event)
        if (self.core.C, self.core.OH * self.core.OW) != (geo.n_ch, geo.n_neur):
            raise ValueError(f"config: {self.core.C} channels of {self.core.OH}x{self.core.OW} "
                             f"neurons, the RTL has {geo.n_ch} of {geo.out_h}x{geo.out_w}")
        self.hdl = HdlReadout(top, geo, timing)
        self.per_event = per_event
        self.tap_interval_us = tap_interval_us
        self.rst_width = rst_width
        self.wakeups: Counter[str] = Counter()
        self.errors: list[str] = []
        self.sample: SampleRecord | None = None
        self.samples: list[SampleRecord] = []
        self._open: WindowRecord | None = None  # the window whose readout is running
        self._new_schedule = Event()
        self._tasks: list = []
        self._t_wall = 0.0
        self._aer_read = 0
        self.taps_written = 0

    # ------------------------------------------------------------ control (from the test)
    def start(self, seed: int, max_ack_ns: float = 0.0, max_rel_ns: float = 0.0) -> None:
        """Put the HDL receiver and flag memory in charge (delays uniform in [0, max] ns per
        half handshake, seeded) and start the coroutines."""
        self.hdl.clear()
        self._aer_read = -sig_int(self.hdl.rx.ev_total, 0)  # events before this bridge
        self.hdl.enable(seed, max_ack_ns, max_rel_ns)
        self._tasks = [cocotb.start_soon(self._serve_samples()),
                       cocotb.start_soon(self._serve_prog())]
        if self.per_event:
            self._tasks.append(cocotb.start_soon(self._serve_events()))
        if self.tap_interval_us:
            self._tasks += [cocotb.start_soon(self._serve_taps()),
                            cocotb.start_soon(self._serve_reset_taps())]

    def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        self._tasks = []

    def begin_sample(self, events: np.ndarray, t0_ps: int, T: int, window_us: int) -> int:
        """A new sample from S0 = ``t0_ps`` (CTRL.EN was just written): apply the reset
        pulses logged since the last moment (e.g. the CTRL.GRST before it), then schedule
        the events of windows 0..T-1 (sensor -> simulation time: tb.bridge_core). Returns
        the events scheduled."""
        self._drain()
        n = self.core.load_events(events, t0_ps, T * window_us)
        self.sample = SampleRecord(int(t0_ps), int(window_us), int(T), n,
                                   int(np.asarray(events["t"]).size) - n,
                                   self.core.event_times().copy())
        self._open = None
        self._t_wall = time.perf_counter()
        self._new_schedule.set()
        return n

    def end_sample(self) -> SampleRecord:
        """After the last readout of the sample is over (CTRL.EN cleared, readout idle):
        collect and check it; returns the sample's record."""
        self._close_window()
        rec = self.sample
        if rec is None:
            raise RuntimeError("end_sample: no sample was begun")
        rec.wall_s = time.perf_counter() - self._t_wall
        self.samples.append(rec)
        self.sample = None
        return rec

    @property
    def fifo_overflow(self) -> int:
        """AER events the HDL receiver got but could not store (its FIFO holds one full
        window); never silently lost: the scoreboard reports them."""
        return sig_int(self.hdl.rx.ev_total, 0) - self._aer_read

    def check(self) -> None:
        """AssertionError listing the first errors found by the per-window checks."""
        bad = sig_int(self.hdl.ana.mask_errors, 0)
        if bad:
            self.errors.append(f"{bad} reset pulse(s) with ana_rst_mask != the channel's flags")
        if self.errors:
            raise AssertionError(f"analog bridge: {len(self.errors)} error(s):\n  "
                                 + "\n  ".join(self.errors[:10]))
        self.hdl.check_protocol()

    # ------------------------------------------------------------ moments
    def _drain(self) -> None:
        """Apply every reset pulse the HDL has logged since the last drain, in order (each
        at its rise, with its measured width); store it with the open window (channel
        resets) or with the sample (global resets)."""
        for r in self.hdl.read_resets():
            width = r.t_fall - r.t_rise
            if r.all:
                self.core.reset(r.t_rise, width, all_channels=True)
                if self.sample is not None:
                    self.sample.global_resets.append(r)
                continue
            if self._open is None:
                self.errors.append(f"channel reset of ch {r.ch} at {r.t_rise} ps outside a "
                                   "readout")
                continue
            self.core.reset(r.t_rise, width, r.ch, self._open.flags[r.ch])
            self._open.resets.append(r)

    def _close_window(self) -> None:
        """The open window's readout is over: apply its resets, read its AER addresses and
        check them against its flags (exact), then store the window."""
        self._drain()
        w = self._open
        aer = self.hdl.read_events()
        self._aer_read += aer.size
        if w is None:
            if aer.size:
                self.errors.append(f"{aer.size} AER events outside a readout")
            return
        w.aer = aer
        self.errors += window_errors(w.k, aer, w.flags, w.resets, self.rst_width, self.geo)
        if self.sample is not None:
            self.sample.windows.append(w)
        self._open = None

    def _window_index(self, t_latch: int) -> int:
        s = self.sample
        if s is None:
            return -1
        return (t_latch - s.t0_ps) // (s.window_us * PS_PER_US) - 1

    async def _serve_samples(self) -> None:
        top, period = self.top, self.timing.clk_period_ps
        while True:
            await RisingEdge(top.ana_sample)
            self.wakeups["sample"] += 1
            if sig_int(top.rst_n) != 1:
                continue
            self._close_window()
            t_latch = now_ps() + period  # the edge that ends the strobe
            flags = self.core.latch(t_latch)
            self.hdl.write_flags(flags)
            self._open = WindowRecord(self._window_index(t_latch), t_latch, flags)
            self._write_taps()

    async def _serve_prog(self) -> None:
        top = self.top
        while True:
            await RisingEdge(top.ana_prog)
            self.wakeups["prog"] += 1
            t0 = now_ps()
            tgt, idx = sig_int(top.ana_prog_target), sig_int(top.ana_prog_index)
            d = sig_int(top.ana_prog_dir)
            await FallingEdge(top.ana_prog)
            self.wakeups["prog"] += 1
            self.core.program(t0, now_ps() - t0, tgt, idx, d == 1)

    async def _after_reset_pulse(self) -> None:
        """If an ana_rst pulse is high, wait until it has fallen and the HDL has logged it."""
        if sig_int(self.top.ana_rst, 0) == 1:
            await FallingEdge(self.top.ana_rst)
            await Timer(1, unit="ps")

    async def _serve_events(self) -> None:
        """Per-event mode: wake at each distinct event time and apply the events there."""
        core = self.core
        while True:
            t = core.next_event_ps()
            if t is None:
                self._new_schedule.clear()
                await self._new_schedule.wait()
                continue
            now = now_ps()
            if t > now:
                await Timer(t - now, unit="ps")
            self.wakeups["event"] += 1
            await self._after_reset_pulse()
            self._drain()
            core.advance_to(max(now_ps() + 1, core.t_ps))  # the events at this instant

    # ------------------------------------------------------------ taps
    def _write_taps(self) -> None:
        chip = getattr(self.top, "u_dut", None)
        if chip is None or not hasattr(chip, "tap_vpre"):
            return
        g = self.geo
        ch = sig_int(chip.probe_ch, 0) % g.n_ch
        y = sig_int(chip.probe_y, 0) % g.out_h
        x = sig_int(chip.probe_x, 0) % g.out_w
        v = self.core.probe(ch, y, x)
        chip.tap_dw_pos.value = v["dw_pos"]
        chip.tap_dw_neg.value = v["dw_neg"]
        chip.tap_vpre.value = v["vpre"]
        chip.tap_vth.value = v["vth"]
        self.taps_written += 1

    async def _serve_taps(self) -> None:
        step = int(self.tap_interval_us * PS_PER_US)
        while True:
            await Timer(step, unit="ps")
            self.wakeups["tap"] += 1
            await self._after_reset_pulse()
            self._drain()
            self.core.advance_to(max(now_ps(), self.core.t_ps))
            self._write_taps()

    async def _serve_reset_taps(self) -> None:
        while True:
            await FallingEdge(self.top.ana_rst)
            await Timer(1, unit="ps")
            self.wakeups["tap"] += 1
            self._drain()
            self._write_taps()
