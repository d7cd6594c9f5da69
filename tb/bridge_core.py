"""The analog side of the co-simulation, in simulation time: one chip instance driven by
input events and by the RTL's pulses, strictly in time order (no simulator needed).

Sensor time -> simulation time (the rule of the analog bridge, docs/verification.md
"The analog bridge"): an event of a sample at sensor time ``t`` (integer microseconds from
the sample's origin) reaches the array at simulation time

    ``t_sim(t) = t0_ps + t * 1_000_000 ps + 500_000 ps``

where ``t0_ps`` is the ``clk_slow`` edge S0 at which the window timer was zeroed by the
write of ``CTRL.EN`` (rtl/REGISTERS.md "Timing": window ``k`` = 1, 2, ... ends at
``S0 + k * TICK_DIV * WINDOW_LEN`` slow periods, which the testbench makes ``k * W`` us).
One sensor microsecond is one simulated microsecond whatever ``clk_slow``; the half
microsecond puts every event between two slow edges, never on a clock edge, so the
comparator latch (the ``clk`` edge that ends ``ana_sample``, at most ~0.3 us after the
window-end edge: clock start-up 250 ns + 4 cycles) falls after the last event of window
``k`` (``t < (k + 1) W``) and before the first of window ``k + 1``: the window grid of the
golden ``chip`` mode, ``[k W, (k + 1) W)``.

:class:`BridgeCore` keeps the time up to which everything has been applied (``t_ps``) and
applies, in time order:

* events: :meth:`advance_to` applies every event with ``t_sim < t`` as one vectorized batch
  (``AccumulatorArray.apply_events``; each event keyed by its index within the sample, so
  the jitter draws equal the golden model's whatever the batching); ``per_event=True``
  applies them one by one through ``apply_events_reference`` (the check of the batching);
* reset pulses (:meth:`reset`): the events strictly before the pulse's rise first, then the
  reset of the masked neurons (or all) with the width the RTL produced (ps, measured);
* programming pulses (:meth:`program`): same, on a weight or threshold device;
* the comparator latch (:meth:`latch`): events before the latch edge, then
  ``AccumulatorArray.sample()``: flags (C, OH * OW) bool, bit ``y * OW + x``.

An operation earlier than ``t_ps`` raises (the caller broke time order). Shapes: flags
(C, OH * OW) as on ``ana_flags`` (one row per channel), masks (OH * OW,) bool.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analog_models.accumulator import AccumulatorArray
from analog_models.chip_config import ChipConfig

PS_PER_US = 1_000_000
#: Offset of an event inside its sensor microsecond (ps): mid-tick (module docstring).
EVENT_OFFSET_PS = PS_PER_US // 2


@dataclass
class Counters:
    """What the core applied: events, batches (calls that applied at least one event), reset
    and programming pulses, latches; events dropped because they lie after the sample's
    last window (``t >= T * W``) or were pending when another sample was loaded."""

    events: int = 0
    batches: int = 0
    resets: int = 0
    prog_pulses: int = 0
    latches: int = 0
    events_dropped: int = 0
    walls_short: int = 0  # accumulator walls a reset pulse left short of q = 0


def event_times_ps(t_us: np.ndarray, t0_ps: int) -> np.ndarray:
    """Simulation times (ps, int64) of events at sensor times ``t_us`` (us from the sample's
    origin), the sample's origin S0 at ``t0_ps`` (module docstring)."""
    return int(t0_ps) + np.asarray(t_us, dtype=np.int64) * PS_PER_US + EVENT_OFFSET_PS


def check_events(events: np.ndarray, sensor_hw: tuple[int, int], polarities: int) -> None:
    """``ValueError`` naming the field unless ``events`` is a time-ordered structured array
    (x, y, t us >= 0, p) inside the sensor ``(H, W)`` with ``polarities`` polarities."""
    names = getattr(getattr(events, "dtype", None), "names", None) or ()
    for f in ("x", "y", "t", "p"):
        if f not in names:
            raise ValueError(f"events: structured array with fields x, y, t, p needed; "
                             f"missing {f!r}")
    t = np.asarray(events["t"], dtype=np.int64)
    if t.size and (t.min() < 0 or np.any(np.diff(t) < 0)):
        raise ValueError("events: t must be >= 0 and non-decreasing (us from the sample's "
                         "origin)")
    h, w = sensor_hw
    for f, hi in (("x", w), ("y", h), ("p", polarities)):
        a = np.asarray(events[f], dtype=np.int64)
        if a.size and (a.min() < 0 or a.max() >= hi):
            bad = int(np.flatnonzero((a < 0) | (a >= hi))[0])
            raise ValueError(f"events: {f}[{bad}] = {int(a[bad])} outside [0, {hi - 1}] of "
                             f"the chip's sensor")


class BridgeCore:
    """One chip instance applied in simulation time (module docstring).

    ``config``: the chip configuration (its geometry, device preset, static variation).
    ``programmed``: False (the co-simulation) starts with every weight and threshold device
    unprogrammed, so only the RTL's programming pulses set them; True builds it as
    programmed from the file (what the golden model uses). ``per_event``: apply events one
    at a time (reference path) instead of in batches."""

    def __init__(self, config: ChipConfig, *, programmed: bool = False,
                 per_event: bool = False) -> None:
        self.config = config
        self.array = AccumulatorArray(config, programmed=programmed)
        self.per_event = bool(per_event)
        g = config.geometry
        self.C, self.OH, self.OW = self.array.neuron_shape
        self.sensor_hw = (g.sensor_height, g.sensor_width)
        self.t_ps = 0
        self.counters = Counters()
        self._x = self._y = self._p = self._idx = np.zeros(0, np.int64)
        self._t = np.zeros(0, np.int64)
        self._cur = 0

    # ------------------------------------------------------------ events
    def load_events(self, events: np.ndarray, t0_ps: int, t_stop_us: int | None = None) -> int:
        """Schedule a sample's events (structured array x, y, t us, p; time-ordered) with
        origin ``t0_ps`` (the S0 edge); events at ``t >= t_stop_us`` (the end of the last
        window) are not scheduled (counted in ``events_dropped``, as the golden model does
        not apply them). Events of an earlier sample still pending are dropped (counted).
        Returns the number scheduled. Each event keeps its index within ``events`` as its
        jitter key."""
        check_events(events, self.sensor_hw, self.array.P)
        if int(t0_ps) < self.t_ps:
            raise ValueError(f"t0_ps: {t0_ps} ps is before the bridge's time {self.t_ps} ps")
        self.counters.events_dropped += self.pending()
        t = np.asarray(events["t"], dtype=np.int64)
        n = t.size if t_stop_us is None else int(np.searchsorted(t, int(t_stop_us), "left"))
        self.counters.events_dropped += t.size - n
        self._t = event_times_ps(t[:n], t0_ps)
        self._x = np.asarray(events["x"][:n], dtype=np.int64)
        self._y = np.asarray(events["y"][:n], dtype=np.int64)
        self._p = np.asarray(events["p"][:n], dtype=np.int64)
        self._idx = np.arange(n, dtype=np.int64)
        self._cur = 0
        return n

    def pending(self) -> int:
        """Scheduled events not applied yet."""
        return int(self._t.size - self._cur)

    def next_event_ps(self) -> int | None:
        """Simulation time of the next pending event (None when none)."""
        return int(self._t[self._cur]) if self._cur < self._t.size else None

    def event_times(self) -> np.ndarray:
        """Simulation times (ps) of the scheduled events, (n,) int64."""
        return self._t

    def advance_to(self, t_ps: int) -> int:
        """Apply every scheduled event with simulation time < ``t_ps``; returns how many."""
        t_ps = int(t_ps)
        if t_ps < self.t_ps:
            raise ValueError(f"advance_to({t_ps} ps): the bridge is already at {self.t_ps} ps "
                             "(operations must come in time order)")
        stop = int(np.searchsorted(self._t, t_ps, side="left"))
        a, n = self._cur, stop - self._cur
        if n > 0:
            sl = slice(a, stop)
            if self.per_event:
                for k in range(a, stop):
                    self.array.apply_events_reference(self._x[k:k + 1], self._y[k:k + 1],
                                                      self._p[k:k + 1], index=self._idx[k:k + 1])
            else:
                self.array.apply_events(self._x[sl], self._y[sl], self._p[sl],
                                        index=self._idx[sl])
            self._cur = stop
            self.counters.events += n
            self.counters.batches += 1
        self.t_ps = t_ps
        return max(n, 0)

    def _at(self, t_ps: int) -> None:
        """Bring the events up to an operation at ``t_ps``. An operation reported after the
        bridge moved past its time (a pulse is known only when it has fallen) is still
        exact when no event lies between its time and the bridge's: events and pulses then
        commute; otherwise ``ValueError`` (time order broken)."""
        t_ps = int(t_ps)
        if t_ps >= self.t_ps:
            self.advance_to(t_ps)
            return
        first = int(np.searchsorted(self._t, t_ps, side="left"))
        if first < self._cur:
            raise ValueError(f"an operation at {t_ps} ps comes after the events up to "
                             f"{self.t_ps} ps were applied (events in between)")

    # ------------------------------------------------------------ RTL pulses and latch
    def reset(self, t_rise_ps: int, width_ps: int, ch: int = 0, mask: np.ndarray | None = None,
              all_channels: bool = False) -> None:
        """An ``ana_rst`` pulse rising at ``t_rise_ps``, ``width_ps`` wide: the events
        before it, then both accumulators of the neurons ``mask`` ((OH * OW,) bool, bit
        ``y * OW + x``) of channel ``ch`` (or of every neuron: ``all_channels``) move left by
        v(I_reset) x width."""
        self._at(t_rise_ps)
        w = float(width_ps) * 1e-12
        a = self.array
        if all_channels:
            a.reset_all(w)
            sel = (...,)
        else:
            m = np.asarray(mask, dtype=bool).reshape(self.OH, self.OW)
            a.reset_channel(int(ch), m, w)
            sel = (int(ch), m)
        self.counters.resets += 1
        self.counters.walls_short += int(np.count_nonzero(a.acc_pos.ticks[sel])
                                         + np.count_nonzero(a.acc_neg.ticks[sel]))

    def program(self, t_rise_ps: int, width_ps: int, target: int, index: int,
                reset: bool) -> None:
        """An ``ana_prog`` pulse rising at ``t_rise_ps``, ``width_ps`` wide, on ``target``
        (0 weight, 1 threshold top, 2 threshold bottom; 3 addresses no device) ``index``;
        ``reset``: ``ana_prog_dir`` = 1."""
        self._at(t_rise_ps)
        if target in (0, 1, 2):
            self.array.program_pulse(int(target), int(index), bool(reset),
                                     float(width_ps) * 1e-12)
        self.counters.prog_pulses += 1

    def latch(self, t_ps: int) -> np.ndarray:
        """The comparator latch at ``t_ps`` (the ``clk`` edge that ends ``ana_sample``): the
        events before it, then every comparator; flags (C, OH * OW) bool."""
        self._at(t_ps)
        self.counters.latches += 1
        return self.array.sample().reshape(self.C, self.OH * self.OW)

    # ------------------------------------------------------------ analog taps
    def probe(self, ch: int, y: int, x: int) -> dict[str, float]:
        """The analog state of neuron (ch, y, x) now: DW positions ``dw_pos``, ``dw_neg``
        (0..1 of the track), ``vpre`` and ``vth`` (V; V_th with the comparator's offset, the
        level V_pre is compared with)."""
        a = self.array
        sel = (int(ch), int(y), int(x))
        return {"dw_pos": float(a.d_pos[sel]), "dw_neg": float(a.d_neg[sel]),
                "vpre": float(a.v_pre(sel)),
                "vth": float(a.v_th()[sel] + a.comp_offset[sel])}

    def device_ticks(self) -> dict[str, np.ndarray]:
        """DW positions (ticks) of the programmable devices (``th_top``, ``th_bot`` and
        ``weight`` when the chip has weight MDWMTJs): what programming must have set."""
        st = self.array.state()
        return {k: st[k] for k in ("th_top", "th_bot", "weight") if k in st}


def programming_mismatch(core: BridgeCore, config: ChipConfig | None = None) -> str | None:
    """None when the weight and threshold devices of ``core`` equal those of the chip built
    from ``config`` (default: the core's own) tick for tick, else a message naming the first
    device array that differs and how many devices differ."""
    ref = AccumulatorArray(config or core.config).state()
    for k, got in core.device_ticks().items():
        want = ref[k]
        if got.shape != want.shape or not np.array_equal(got, want):
            bad = np.argwhere(got != want)
            i = tuple(int(v) for v in bad[0]) if bad.size else ()
            return (f"{k}: {len(bad)} of {want.size} devices differ from the chip built from "
                    f"the file; first {i}: {int(got[i])} ticks, expected {int(want[i])}")
    return None
