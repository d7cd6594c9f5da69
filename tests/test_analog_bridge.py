"""The model side of the analog bridge (tb.bridge_core) and the documented readout timing
(tb.readout_timing), without a simulator: programming pulse by pulse equals the chip built
from the file, batched events equal per-event application, the RTL's timing replayed in
Python equals the golden chip mode in matched timing, short reset pulses leave walls short."""

from __future__ import annotations

import numpy as np
import pytest

from analog_models.presets import get_preset
from events import EVENT_DTYPE
from golden.chip import ChipFirstLayer
from tb.bridge_core import (
    EVENT_OFFSET_PS,
    PS_PER_US,
    BridgeCore,
    event_times_ps,
    programming_mismatch,
)
from tb.config import ClockTiming, Geometry
from tb.program_chip import chip_commands, random_config
from tb.readout_timing import (
    golden_reset_times,
    latch_ps,
    readout_cycles,
    reset_rise_cycles,
    sensor_us,
)

SEED = 20240917
GEO, TIMING = Geometry(), ClockTiming()


def chip(seed: int, weight_config: str = "cmos+x", window_us: int = 2000):
    """A random chip configuration (tb.program_chip.random_config) with windows long enough
    for every readout (no overrun)."""
    cfg = random_config(seed, weight_config)
    cfg.window_us = window_us
    return cfg


def random_events(n: int, t_max_us: int, seed: int = SEED) -> np.ndarray:
    """``n`` seeded events on the 34 x 34 sensor, time-ordered in [0, t_max_us)."""
    rng = np.random.default_rng(seed)
    ev = np.zeros(n, dtype=EVENT_DTYPE)
    ev["x"] = rng.integers(0, 34, n)
    ev["y"] = rng.integers(0, 34, n)
    ev["p"] = rng.integers(0, 2, n)
    ev["t"] = np.sort(rng.integers(0, t_max_us, n))
    return ev


def program_by_pulses(core: BridgeCore, cfg, skip_pulse: int | None = None) -> None:
    """What the RTL emits for every PROG_CMD (default widths at 100 MHz: reset 320 ns, set
    pulses 40 ns, gaps between them); ``skip_pulse``: leave out that set pulse number."""
    t, n = 1_000, 0
    for target, index, code in chip_commands(cfg):
        core.program(t, 320_000, target, index, True)
        t += 340_000
        for _ in range(code):
            if n != skip_pulse:
                core.program(t, 40_000, target, index, False)
            n += 1
            t += 60_000


@pytest.mark.parametrize("weight_config", ["cmos+x", "mdwmtj"])
def test_programming_by_pulses_equals_the_file(weight_config: str) -> None:
    cfg = random_config(SEED, weight_config)
    core = BridgeCore(cfg)
    assert programming_mismatch(core) is not None  # unprogrammed: differs
    program_by_pulses(core, cfg)
    assert programming_mismatch(core) is None, f"seed {SEED}"


def test_programming_missing_pulse_is_named() -> None:
    cfg = random_config(SEED, "mdwmtj")
    core = BridgeCore(cfg)
    program_by_pulses(core, cfg, skip_pulse=5)
    msg = programming_mismatch(core)
    assert msg is not None and msg.startswith("weight:"), msg


def _readout(core: BridgeCore, cfg, T: int, t0: int, rst_width: int = 16) -> np.ndarray:
    """Replay the RTL's documented timing on ``core``: latch at each window end, reset each
    spiking channel at its documented instant with RST_WIDTH cycles."""
    spikes = []
    for k in range(T):
        t_latch = latch_ps(TIMING, t0 + (k + 1) * cfg.window_us * PS_PER_US)
        flags = core.latch(t_latch)
        rise = t_latch + reset_rise_cycles(flags.sum(1), GEO, rst_width) * TIMING.clk_period_ps
        for c in np.flatnonzero(flags.any(1)):
            core.reset(int(rise[c]), rst_width * TIMING.clk_period_ps, int(c), flags[c])
        spikes.append(flags.reshape(core.C, core.OH, core.OW))
    return np.stack(spikes)


def test_matched_timing_equals_golden_chip_mode() -> None:
    """The bridge core under the documented readout timing equals the golden chip mode told
    the same reset instants, window for window (seeded random events, a random chip)."""
    cfg = chip(SEED)
    T, t0 = 6, 7_500_000
    ev = random_events(3000, T * cfg.window_us + 40)
    core = BridgeCore(cfg, programmed=True)
    core.reset(1_000, 160_000, all_channels=True)
    core.load_events(ev, t0, T * cfg.window_us)
    rtl = _readout(core, cfg, T, t0)
    gold = ChipFirstLayer(cfg, T).run(ev, reset_times=golden_reset_times(t0, TIMING, GEO, 16))
    assert rtl.sum() > 0, "the test needs spikes"
    assert np.array_equal(rtl, gold), f"{(rtl != gold).sum()} neuron-windows differ (seed {SEED})"
    assert core.counters.events_dropped == int((ev["t"] >= T * cfg.window_us).sum())


def test_batched_events_equal_per_event() -> None:
    """Events batched between pulses equal events applied one by one (reference path)."""
    cfg = chip(SEED + 1)
    T, t0 = 3, 2_000_000
    ev = random_events(400, T * cfg.window_us, SEED + 1)
    out = []
    for per_event in (False, True):
        core = BridgeCore(cfg, programmed=True, per_event=per_event)
        core.load_events(ev, t0)
        out.append((_readout(core, cfg, T, t0), core.array.state()))
    assert np.array_equal(out[0][0], out[1][0])
    for k in ("pos", "neg"):
        assert np.array_equal(out[0][1][k], out[1][1][k]), k


def test_short_reset_leaves_walls_short() -> None:
    """A reset pulse below the device's minimum (rtl/REGISTERS.md: 8 cycles at 100 MHz)
    leaves walls from the far end short of q = 0; the minimum brings them all back."""
    cfg = random_config(SEED, "cmos+x")
    min_s = get_preset(cfg.device_preset).min_reset_width_s()
    assert int(np.ceil(min_s * 100e6)) == 8
    core = BridgeCore(cfg, programmed=True)
    full = np.ones(GEO.n_neur, bool)
    for width_ps, short in ((40_000, True), (80_000, False)):
        core.array.acc_pos.ticks = np.full_like(core.array.acc_pos.ticks, 1 << 40)
        before = core.counters.walls_short
        core.reset(core.t_ps + 1, width_ps, 0, full)
        assert (core.counters.walls_short > before) == short, width_ps


def test_time_order() -> None:
    cfg = random_config(SEED, "cmos+x")
    core = BridgeCore(cfg, programmed=True)
    ev = random_events(50, 1000)
    core.load_events(ev, 0)
    core.advance_to(int(event_times_ps(ev["t"][10:11], 0)[0]) + 2)
    with pytest.raises(ValueError, match="time order"):
        core.advance_to(5)
    with pytest.raises(ValueError, match="events in between"):
        core.reset(5, 160_000, 0, np.ones(GEO.n_neur, bool))
    t_now = core.t_ps
    core.reset(t_now - 1, 160_000, 0, np.ones(GEO.n_neur, bool))  # nothing in between: exact


def test_sensor_time_rule() -> None:
    t = np.array([0, 1, 31_999, 32_000])
    got = event_times_ps(t, 3_500_000)
    assert list(got) == [3_500_000 + EVENT_OFFSET_PS + v * PS_PER_US for v in t]
    assert np.allclose(sensor_us(got, 3_500_000), t)
    # the latch of window 0 falls after its last event and before the first of window 1
    latch = latch_ps(TIMING, 3_500_000 + 32_000 * PS_PER_US)
    assert got[2] < latch < got[3]


def test_events_are_checked() -> None:
    cfg = random_config(SEED, "cmos+x")
    core = BridgeCore(cfg)
    ev = random_events(10, 100)
    bad = ev.copy()
    bad["x"][3] = 34
    with pytest.raises(ValueError, match=r"x\[3\] = 34"):
        core.load_events(bad, 0)
    bad = ev[::-1].copy()
    with pytest.raises(ValueError, match="non-decreasing"):
        core.load_events(bad, 0)


def test_readout_timing_formulas() -> None:
    """REGISTERS.md "Timing": 96 cycles for an empty window; a spiking channel's reset
    rises FLAG_SETTLE + 1 + 3 + S (2L + 6) + 2 cycles into its slot (the 3: the v2
    arbiter's row choice, row load and column register), the slot lasting RST_WIDTH + 6
    more than the scan and the events."""
    zero = np.zeros(GEO.n_ch, int)
    assert readout_cycles(zero, GEO, 16) == 96
    n = zero.copy()
    n[0], n[2] = 3, 1
    assert readout_cycles(n, GEO, 16) == 96 + 4 * 6 + 2 * 22
    rise = reset_rise_cycles(n, GEO, 16)
    assert rise[0] == 3 + 3 + 18 + 2
    assert rise[2] == (3 + 3 + 18 + 19) + 3 + 3 + 3 + 6 + 2
    assert readout_cycles(n, GEO, 16, ack_latency=2) == 96 + 4 * 10 + 2 * 22
    # clock stopped at the window end: start-up, then 4 cycles to the latch edge
    assert latch_ps(TIMING, 1_500_000) == TIMING.first_edge_after_start(1_500_000) + 40_000
