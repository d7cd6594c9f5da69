"""Analog-boundary agent (pyuvm): plays the analog side of `p2m_top` with a simple reference
model of the comparator flags, and monitors the reset and programming pulses.

The agent works on an :class:`~tb.buses.AnalogBus` (ConfigDB key ``ana_bus``) with the
geometry (``geometry``) and clock timing (``timing``) read from the toplevel; the analog
taps live in the ``chip`` scope (``p2m_tb.u_dut``).

Flags (:class:`FlagModel`): at each ``ana_sample`` the agent draws (or takes from a queue
filled by the test) the latched comparator flags of every channel for that window, shape
(N_CH, N_NEUR) bool, bit ``y*OUT_W + x``. It answers ``ana_ch_sel`` with ``ana_flags``: on a
change of ``ana_ch_sel`` it first drives the complement of the right flags (a settling
comparator mux) and the right flags from 1.5 clock periods later, so an RTL that samples
earlier than ``FLAG_SETTLE`` = 2 cycles after the change reads wrong flags and the
scoreboard catches it.

Reset pulses: every ``ana_rst`` pulse is published as an :class:`RstPulse` (width in clock
cycles, channel, mask, global) on ``rst_ap``. Programming pulses: every ``ana_prog`` pulse as
a :class:`ProgPulse` (target, index, dir, width) on ``prog_ap``; the agent also keeps a device
model (``devices[(target, index)]`` = number of set pulses since the last reset pulse, None
before the first reset pulse) that a test compares with a chip configuration.

Stability (REGISTERS.md: target/index/dir and ch/mask/all stable from one cycle before the
pulse rises until the cycle after it falls): every change of those signals is timed and
``check()`` verifies no change lies in [rise - 1 cycle + 1 ps, fall + 1 cycle - 1 ps], and
(REGISTERS.md v1.1: they are 0 outside that frame) that every change happens exactly one
cycle before a pulse rises or one cycle after one falls.

Analog taps: the agent writes the ``real`` debug taps (``tap_dw_pos``, ``tap_dw_neg``,
``tap_vpre``, ``tap_vth``) for the probed neuron so that GTKWave shows analog traces: a
stand-in (assumption, not a device model) where the DW positions are random in [0, 1] at each
sample, V_pre = 0.4 + 0.4 * (dw_pos - dw_neg) volts, V_th = 0.45 V for a neuron that did not
spike, and a spike or a reset of the probed neuron sets both DWs to 0.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, First, RisingEdge, Timer
from pyuvm import uvm_analysis_port, uvm_component

from tb import config
from tb.common import flags_to_int, int_to_flags, now_ps, np_rng, sig_int
from tb.config import Geometry
from tb.coverage import DB, burst_bins


@dataclass
class WindowItem:
    """The flags latched at one ``ana_sample``: window number, time (ps), flags (N_CH, N_NEUR)."""

    index: int
    t_sample: int
    flags: np.ndarray
    rst_width: int = 0  # RST_WIDTH mirrored at the sample (cycles)


@dataclass
class RstPulse:
    """One ``ana_rst`` pulse: rise/fall times (ps), width (cycles), channel, mask, global."""

    t_rise: int
    t_fall: int
    width: int
    ch: int
    mask: int
    all: bool
    cut: bool = False  # ended by rst_n (asynchronous reset), width not checked


@dataclass
class ProgPulse:
    """One ``ana_prog`` pulse: rise/fall (ps), width (cycles), target, index, dir."""

    t_rise: int
    t_fall: int
    width: int
    target: int
    index: int
    dir: int
    cut: bool = False  # ended by rst_n (asynchronous reset), width not checked


@dataclass
class RstnEvent:
    """An assertion of ``rst_n`` (time in ps): the scoreboards restart after it."""

    t: int


class FlagModel:
    """Seeded random comparator-flag sets per window and channel.

    Each channel of each window gets a density class: empty, sparse (1-3 spikes), light
    (1-10 %), medium (10-40 %), dense (40-90 %) or full (all 256). ``weights`` are the class
    probabilities; ``mean_spikes`` gives the expected spikes per window.
    """

    CLASSES = ("empty", "sparse", "light", "medium", "dense", "full")

    def __init__(self, rng: np.random.Generator,
                 weights: tuple[float, ...] = (0.25, 0.25, 0.25, 0.15, 0.08, 0.02),
                 geometry: Geometry | None = None) -> None:
        if len(weights) != len(self.CLASSES) or min(weights) < 0 or sum(weights) <= 0:
            raise ValueError(f"weights: need {len(self.CLASSES)} non-negative weights, got {weights}")
        self.rng = rng
        self.p = np.asarray(weights, dtype=float) / float(sum(weights))
        self.geo = geometry or Geometry()

    @property
    def mean_spikes(self) -> float:
        """Expected spikes per window (all channels)."""
        nn = self.geo.n_neur
        per_class = np.array([0, 2, 0.055 * nn, 0.25 * nn, 0.65 * nn, nn])
        return float(self.geo.n_ch * (self.p @ per_class))

    def channel(self) -> np.ndarray:
        """Flags of one channel, (N_NEUR,) bool."""
        nn = self.geo.n_neur
        cls = self.rng.choice(len(self.CLASSES), p=self.p)
        if cls == 0:
            return np.zeros(nn, bool)
        if cls == 5:
            return np.ones(nn, bool)
        if cls == 1:
            n = min(nn, int(self.rng.integers(1, 4)))
        else:
            lo, hi = {2: (0.01, 0.10), 3: (0.10, 0.40), 4: (0.40, 0.90)}[cls]
            n = max(1, int(round(self.rng.uniform(lo, hi) * nn)))
        out = np.zeros(nn, bool)
        out[self.rng.choice(nn, size=n, replace=False)] = True
        return out

    def window(self) -> np.ndarray:
        """Flags of one window, (N_CH, N_NEUR) bool."""
        return np.stack([self.channel() for _ in range(self.geo.n_ch)])


class AnalogAgent(uvm_component):
    """The analog side: flags, reset/programming pulse monitors, device model, taps."""

    def build_phase(self) -> None:
        self.win_ap = uvm_analysis_port("win_ap", self)
        self.rst_ap = uvm_analysis_port("rst_ap", self)
        self.prog_ap = uvm_analysis_port("prog_ap", self)
        self.rstn_ap = uvm_analysis_port("rstn_ap", self)
        self.geo = geo = config.get(self, "geometry")
        self.period = config.get(self, "timing").clk_period_ps
        self.model = FlagModel(np_rng(self.get_full_name()), geometry=geo)
        self.queue: deque[np.ndarray] = deque()  # flags given by the test, used first
        self.window_index = -1
        self.flags = geo.zeros()
        self._flag_ints = [0] * geo.n_ch
        self.devices: dict[tuple[int, int], int | None] = {}
        self.rst_pulses: list[RstPulse] = []
        self.prog_pulses: list[ProgPulse] = []
        self._rst_changes: list[int] = []
        self._prog_changes: list[int] = []
        self.settle_junk = True
        self.regs = None  # RegBlock, set by the env (RST_WIDTH mirror)
        self.probe = (0, 0, 0)
        self._tap_state = {"pos": 0.0, "neg": 0.0}
        cov = DB.group("analog")
        cov.point("channel_burst", burst_bins())
        cov.point("spiking_channel", [(f"ch{c}", c) for c in range(geo.n_ch)])
        cov.point("window_spikes", [("0", 0), ("1-63", (1, 63)), ("64-1023", (64, 1023)),
                                    ("1024-4095", (1024, 4095)), (">= 4096", (4096, 10**6))])
        cov.point("rst_width", [("1", 1), ("2-15", (2, 15)), ("16", 16), ("17-255", (17, 255)),
                                (">= 256", (256, 65535))])
        cov.point("global_reset", [("channel reset", 0), ("global reset", 1)])
        self.cov = cov

    def start_of_simulation_phase(self) -> None:
        self.bus = config.get(self, "ana_bus")
        self.rst_n = config.get(self, "clock_reset").rst_n
        self.chip = config.get(self, "chip")  # the scope of the analog taps (or None)

    # ------------------------------------------------------------ run
    async def run_phase(self) -> None:
        if config.get(self, "hdl_agents"):
            return  # the HDL agents serve the bus (tb.hdl_agents)
        b = self.bus
        watch = [self._ch_sel_watch(), self._rstn_watch()]
        if b.rst is not None:
            watch += [self._rst_monitor(),
                      self._watch_changes((b.rst_ch, b.rst_mask, b.rst_all), self._rst_changes)]
        if b.prog is not None:
            watch += [self._prog_monitor(),
                      self._watch_changes((b.prog_target, b.prog_index, b.prog_dir),
                                          self._prog_changes)]
        for coro in watch:
            cocotb.start_soon(coro)
        n_ch = self.geo.n_ch
        while True:
            await RisingEdge(b.sample)
            if sig_int(self.rst_n) != 1:
                continue
            self.window_index += 1
            flags = self.queue.popleft() if self.queue else self.model.window()
            self.flags = np.asarray(flags, dtype=bool).reshape(n_ch, self.geo.n_neur)
            self._flag_ints = [flags_to_int(f) for f in self.flags]
            ch = sig_int(b.ch_sel, 0)
            b.flags.value = self._flag_ints[ch % n_ch]
            rst_width = self.regs.value("RST_WIDTH") if self.regs is not None else 0
            item = WindowItem(self.window_index, now_ps(), self.flags.copy(), rst_width)
            counts = self.flags.sum(axis=1)
            for c, n in enumerate(counts):
                self.cov.sample("channel_burst", int(n))
                if n:
                    self.cov.sample("spiking_channel", c)
            self.cov.sample("window_spikes", int(counts.sum()))
            self._taps_at_sample()
            self.win_ap.write(item)

    async def _ch_sel_watch(self) -> None:
        b, n_ch, nn = self.bus, self.geo.n_ch, self.geo.n_neur
        # wrong flags until half a cycle before the FLAG_SETTLE-th edge after the change
        half = Timer(self.period * (2 * self.geo.flag_settle - 1) // 2, unit="ps")
        while True:
            await b.ch_sel.value_change
            ch = sig_int(b.ch_sel, 0) % n_ch
            if self.settle_junk:
                b.flags.value = self._flag_ints[ch] ^ ((1 << nn) - 1)
                await half
                if sig_int(b.ch_sel, 0) % n_ch != ch:
                    continue  # changed again while settling: that change's wake-up drives it
            b.flags.value = self._flag_ints[ch]

    async def _rst_monitor(self) -> None:
        b = self.bus
        while True:
            await RisingEdge(b.rst)
            t0 = now_ps()
            ch, mask = sig_int(b.rst_ch), sig_int(b.rst_mask)
            glob = sig_int(b.rst_all) == 1
            await FallingEdge(b.rst)
            t1 = now_ps()
            p = RstPulse(t0, t1, round((t1 - t0) / self.period), ch, mask, glob,
                         sig_int(self.rst_n) != 1)
            self.rst_pulses.append(p)
            self.cov.sample("rst_width", p.width)
            self.cov.sample("global_reset", int(glob))
            self._taps_at_reset(p)
            self.rst_ap.write(p)

    async def _prog_monitor(self) -> None:
        b = self.bus
        while True:
            await RisingEdge(b.prog)
            t0 = now_ps()
            tgt, idx, d = sig_int(b.prog_target), sig_int(b.prog_index), sig_int(b.prog_dir)
            await FallingEdge(b.prog)
            t1 = now_ps()
            p = ProgPulse(t0, t1, round((t1 - t0) / self.period), tgt, idx, d,
                          sig_int(self.rst_n) != 1)
            key = (tgt, idx)
            if d == 1:
                self.devices[key] = 0
            else:
                cur = self.devices.get(key)
                self.devices[key] = None if cur is None else cur + 1
            self.prog_pulses.append(p)
            self.prog_ap.write(p)

    async def _watch_changes(self, sigs: tuple, out: list[int]) -> None:
        rst_n = self.rst_n
        while True:
            await First(*(s.value_change for s in sigs))
            if sig_int(rst_n) == 1:  # an asynchronous reset clears them: not a violation
                out.append(now_ps())

    async def _rstn_watch(self) -> None:
        while True:
            await FallingEdge(self.rst_n)
            self.rstn_ap.write(RstnEvent(now_ps()))

    # ------------------------------------------------------------ taps
    def _tap(self, name: str, value: float) -> None:
        h = getattr(self.chip, name, None) if self.chip is not None else None
        if h is not None:
            h.value = float(value)

    def _read_probe(self) -> tuple[int, int, int]:
        """The probed neuron from the ``probe_ch/y/x`` wires (PROBE register)."""
        d, g = self.chip, self.geo
        if d is not None and all(hasattr(d, n) for n in ("probe_ch", "probe_y", "probe_x")):
            vals = (sig_int(d.probe_ch, 0), sig_int(d.probe_y, 0), sig_int(d.probe_x, 0))
            self.probe = (vals[0] % g.n_ch, vals[1] % g.out_h, vals[2] % g.out_w)
        return self.probe

    def _taps_at_sample(self) -> None:
        ch, y, x = self._read_probe()
        spiked = bool(self.flags[ch, y * self.geo.out_w + x])
        st = self._tap_state
        st["pos"], st["neg"] = float(self.model.rng.uniform(0.3, 1.0)), float(
            self.model.rng.uniform(0.0, 0.5))
        self._tap("tap_dw_pos", st["pos"])
        self._tap("tap_dw_neg", st["neg"])
        vpre = 0.4 + 0.4 * (st["pos"] - st["neg"])
        self._tap("tap_vpre", vpre)
        self._tap("tap_vth", vpre - 0.05 if spiked else max(vpre + 0.05, 0.45))

    def _taps_at_reset(self, p: RstPulse) -> None:
        ch, y, x = self.probe
        bit = y * self.geo.out_w + x
        if p.all or (p.ch == ch and p.mask >= 0 and (p.mask >> bit) & 1):
            self._tap("tap_dw_pos", 0.0)
            self._tap("tap_dw_neg", 0.0)
            self._tap("tap_vpre", 0.4)

    # ------------------------------------------------------------ checks
    @staticmethod
    def _stability(pulses, changes: list[int], what: str, period: int = 10_000) -> list[str]:
        bad: list[str] = []
        ch = sorted(changes)
        for p in pulses:
            if p.cut:
                continue
            lo, hi = p.t_rise - period + 1, p.t_fall + period - 1
            i = bisect.bisect_left(ch, lo)
            if i < len(ch) and ch[i] <= hi:
                bad.append(f"{what} changed at {ch[i] / 1000:.3f} ns, within one cycle of the "
                           f"pulse {p.t_rise / 1000:.3f}-{p.t_fall / 1000:.3f} ns")
                if len(bad) >= 10:
                    break
        return bad

    @staticmethod
    def _framing(pulses, changes: list[int], what: str, period: int = 10_000) -> list[str]:
        """REGISTERS.md v1.1: the qualifiers are set one cycle before a pulse rises and
        return to 0 one cycle after it falls, so every change of them happens exactly at
        (rise - 1 cycle) or (fall + 1 cycle) of some pulse (changes under rst_n excluded)."""
        allowed = set()
        for p in pulses:
            allowed.add(p.t_rise - period)
            allowed.add(p.t_fall + period)
        bad = [t for t in changes if t not in allowed]
        if not bad:
            return []
        return [f"{what} changed at {bad[0] / 1000:.3f} ns, not one cycle before a pulse nor one "
                f"cycle after one ({len(bad)} such changes)"]

    def check(self) -> None:
        """Raise AssertionError if a pulse qualifier changed around its pulse, or changed
        at a time that is neither the setup nor the return-to-0 edge of a pulse."""
        P = self.period
        bad = self._stability(self.rst_pulses, self._rst_changes, "ana_rst_ch/mask/all", P)
        bad += self._stability(self.prog_pulses, self._prog_changes,
                               "ana_prog_target/index/dir", P)
        bad += self._framing(self.rst_pulses, self._rst_changes, "ana_rst_ch/mask/all", P)
        bad += self._framing(self.prog_pulses, self._prog_changes, "ana_prog_target/index/dir",
                             P)
        if bad:
            raise AssertionError("pulse qualifier stability:\n  " + "\n  ".join(bad))

    def device_code(self, target: int, index: int) -> int | None:
        return self.devices.get((target, index))

    def flags_of(self, ch: int) -> np.ndarray:
        return int_to_flags(self._flag_ints[ch], self.geo.n_neur)
