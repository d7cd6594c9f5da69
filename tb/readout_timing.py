"""The documented readout timing of ``p2m_top`` (rtl/REGISTERS.md "Timing"), as numbers: when
the comparators are latched after a window end and when each channel's reset pulse rises.

Matched timing: the golden ``chip`` mode is told these instants
(:func:`golden_reset_times`), so its spiking neurons lose exactly the events the chip's lose
between the latch and their reset. Only the documented formulas are used here, never a
measured time: a co-simulation whose measured instants differ from these (a slower AER
receiver, an RTL that does not keep its contract) shows up as spike differences.

Times are picoseconds of simulation time unless named ``_us`` (sensor microseconds on the
sample's clock, tb.bridge_core).
"""

from __future__ import annotations

import numpy as np

from tb.bridge_core import EVENT_OFFSET_PS, PS_PER_US
from tb.config import ClockTiming, Geometry

#: Cycles from the ``clk`` edge F1 (the first after the window-end ``clk_slow`` edge) to the
#: latch edge (the edge that ends ``ana_sample``): ana_sample rises at F4 = F1 + 3, the
#: strobe cycle ends at F1 + 4 (REGISTERS.md "Clocking and clock-domain crossings").
LATCH_CYCLES = 4
#: Cycles from the start of a channel's reset block (the cycle after its last handshake
#: returned to zero) to the rise of its ``ana_rst`` pulse: the setup cycle
#: (REGISTERS.md "Timing": a reset occupies RST_WIDTH + 2 cycles, setup, pulse, hold).
RESET_SETUP_CYCLES = 2
#: Cycles a spiking channel spends before its first event with the v2 arbiter (row choice
#: S_PICK, row load S_LOAD, column register): REGISTERS.md, K (RST_WIDTH + 6).
PICK_CYCLES = 3


def latch_ps(timing: ClockTiming, window_end_ps: int) -> int:
    """The latch edge of a window that ends at ``clk_slow`` edge ``window_end_ps`` when the
    readout clock is stopped then (the clock source starts, F1 is its first edge)."""
    return timing.first_edge_after_start(int(window_end_ps)) + LATCH_CYCLES * timing.clk_period_ps


def event_cycles(ack_latency: int = 0) -> int:
    """``clk`` cycles of one AER event when the receiver answers each request edge
    ``ack_latency`` (L) cycles after the edge at which it sees it: 2 L + 6."""
    return 2 * int(ack_latency) + 6


def _channel_cycles(n: np.ndarray, geo: Geometry, rst_width: int,
                    ack_latency: int) -> tuple[np.ndarray, np.ndarray]:
    """Per channel with ``n`` spikes: the cycles before its reset setup begins (scan, pick,
    events) and all its cycles (with the reset: RST_WIDTH + 3), (N_CH,) int64 each."""
    scan = geo.flag_settle + 1
    busy = scan + (n > 0) * PICK_CYCLES + n * event_cycles(ack_latency)
    return busy, busy + (n > 0) * (int(rst_width) + 3)


def reset_rise_cycles(spikes_per_channel: np.ndarray, geo: Geometry, rst_width: int,
                      ack_latency: int = 0) -> np.ndarray:
    """Cycles from the latch edge to the rise of each channel's reset pulse, (N_CH,) int64
    (a channel without spikes gets the cycle its reset would have had: it has none).

    Channel c costs FLAG_SETTLE + 1 cycles (select, settle, latch), then, when it has
    spikes, PICK_CYCLES (row choice, row load, column register: the v2 arbiter), (2L + 6)
    per spike and RST_WIDTH + 3 (setup, pulse, hold, drain); its pulse rises
    RESET_SETUP_CYCLES after its last spike's handshake is back to zero
    (REGISTERS.md "Timing": K (RST_WIDTH + 6) in all per spiking channel)."""
    n = np.asarray(spikes_per_channel, dtype=np.int64).reshape(-1)
    busy, cost = _channel_cycles(n, geo, rst_width, ack_latency)
    start = np.concatenate([[0], np.cumsum(cost)[:-1]])
    return start + busy + RESET_SETUP_CYCLES


def readout_cycles(spikes_per_channel: np.ndarray, geo: Geometry, rst_width: int,
                   ack_latency: int = 0) -> int:
    """Cycles from the latch edge to the edge at which STATUS.BUSY falls:
    N_CH (FLAG_SETTLE + 1) + S (2L + 6) + K (RST_WIDTH + 6), the channels' costs summed."""
    n = np.asarray(spikes_per_channel, dtype=np.int64).reshape(-1)
    return int(_channel_cycles(n, geo, rst_width, ack_latency)[1].sum())


def sensor_us(t_ps: np.ndarray | int, t0_ps: int) -> np.ndarray:
    """Sensor time (us on the sample's clock, float) of simulation time ``t_ps``: the inverse
    of tb.bridge_core.event_times_ps (an event at sensor ``t`` happens at ``t + 0.5``)."""
    return (np.asarray(t_ps, dtype=np.float64) - int(t0_ps) - EVENT_OFFSET_PS) / PS_PER_US


def golden_reset_times(t0_ps: int, timing: ClockTiming, geo: Geometry, rst_width: int,
                       ack_latency: int = 0):
    """``reset_times(window_end_us, flags (C, OH, OW)) -> (C,)`` for
    ``golden.chip.ChipFirstLayer.run``: each channel's reset instant (sensor us) from the
    documented timing, the sample's origin S0 at ``t0_ps``."""
    period = timing.clk_period_ps

    def reset_times(window_end_us: int, flags: np.ndarray) -> np.ndarray:
        t_latch = latch_ps(timing, t0_ps + int(window_end_us) * PS_PER_US)
        counts = np.asarray(flags).reshape(geo.n_ch, -1).sum(axis=1)
        rise = t_latch + reset_rise_cycles(counts, geo, rst_width, ack_latency) * period
        return sensor_us(rise, t0_ps)

    return reset_times


def measured_reset_times(t0_ps: int, window_end_us: list[int],
                         rises: list[dict[int, int]]):
    """``reset_times`` for the golden model from measured rises: ``rises[k]`` = {channel:
    rise time (ps)} of window ``k`` (ending at ``window_end_us[k]``); channels without a
    pulse get +inf (they did not spike)."""
    by_end = {int(e): r for e, r in zip(window_end_us, rises, strict=True)}

    def reset_times(window_end_us_k: int, flags: np.ndarray) -> np.ndarray:
        r = by_end.get(int(window_end_us_k), {})
        c = np.asarray(flags).shape[0]
        out = np.full(c, np.inf)
        for ch, t in r.items():
            out[ch] = sensor_us(t, t0_ps)
        return out

    return reset_times
