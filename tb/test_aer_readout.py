"""AER readout of `p2m_top`: no lost or duplicated spike, order, fairness, protocol, speed.

Testpoints (tb/testplan.md): aer_no_loss_no_dup, aer_fairness, aer_protocol,
aer_backpressure, aer_corner_patterns, aer_throughput.

The bulk test sends at least ``P2M_AER_SPIKES`` (default 100,000) random spikes through the
readout under four backpressure profiles (none, light, random with long stalls, heavy); a
tick of one clock (TICK_DIV = 1) and short windows keep the simulated time small, and Python
only wakes at AER handshake edges, ``ana_sample``, ``ana_ch_sel`` changes and reset pulses.

Run: ``make sim TEST=test_aer_readout`` (``python -m tb.run test_aer_readout --seed N``).
"""

from __future__ import annotations

import numpy as np
import pyuvm
from cocotb.triggers import FallingEdge, RisingEdge

from tb.common import now_ps, np_rng
from tb.config import Geometry
from tb.coverage import DB
from tb.env import P2mBaseTest


class _ReadoutTest(P2mBaseTest):
    async def run_windows_until(self, spikes: int, max_windows: int = 100000) -> int:
        """Keep CTRL.EN on until ``spikes`` more spikes were latched; returns windows run."""
        ana = self.env.ana
        start = self.env.ana.window_index
        total = 0
        while total < spikes and ana.window_index - start < max_windows:
            await RisingEdge(self.dut.ana_sample)
            await FallingEdge(self.dut.clk)
            total += int(ana.flags.sum())
        return ana.window_index - start


@pyuvm.test()
class AerRandomBulk(_ReadoutTest):
    """>= 100,000 random spikes under four backpressure profiles; the scoreboard checks every
    window (no loss, no duplication, order, fairness bound, reset masks) and the monitor every
    handshake."""

    async def body(self) -> None:
        target = self.run_cfg.aer_spikes
        # windows (20 us) shorter than a readout: the next sample waits for the readout
        # (CNT_OVERRUN counts it), so the bus is never idle and no simulated cycle is wasted
        await self.env.configure(tick_div=1, window_len=20, rst_width=4)
        phases = (("none", 0.3), ("light", 0.3), ("random", 0.3), ("heavy", 0.1))
        await self.regs.write("CTRL", 1)
        for profile, frac in phases:
            self.env.aer.set_profile(profile)
            n = await self.run_windows_until(int(target * frac))
            self.logger.info(f"backpressure {profile}: {n} windows")
            self.env.aer_mon.check()  # fail early
            self.env.sb.check(final=False)
        await self.env.stop_windows()
        st = self.env.sb.check(final=True)
        self.logger.info(f"checked {st.spikes} spikes in {st.windows} windows, "
                         f"{st.channel_resets} channel resets, max burst {st.max_burst}")
        if st.spikes < target:
            raise AssertionError(f"only {st.spikes} spikes checked, need {target}")
        # coverage closure of this test (the default geometry's bins): every backpressure
        # level, burst length, channel
        points = ((("aer", "ack_delay_ns"), ("analog", "channel_burst"),
                   ("analog", "spiking_channel")) if self.geo == Geometry() else ())
        for group, point in points:
            cp = DB.group(group).points[point]
            if cp.covered != cp.total:
                raise AssertionError(f"coverage {group}.{point}: {cp.covered}/{cp.total} bins hit "
                                     f"after {st.spikes} spikes\n{DB.group(group).report()}")
        cnt = await self.regs.read("CNT_EVENTS")
        if cnt != self.env.aer_mon.n_events:
            raise AssertionError(f"CNT_EVENTS = {cnt}, AER monitor saw {self.env.aer_mon.n_events}")


@pyuvm.test()
class AerCornerPatterns(_ReadoutTest):
    """Directed windows: empty, single spikes at the first and last address, one full channel,
    every channel full (8192 spikes), checkerboard, last row/column only; heavy backpressure."""

    BACKPRESSURE = "heavy"

    async def body(self) -> None:
        g = self.geo
        pats = []
        z = g.zeros()
        pats.append(z.copy())
        a = z.copy()
        a[0, 0] = True
        pats.append(a)
        a = z.copy()
        a[g.n_ch - 1, g.n_neur - 1] = True
        pats.append(a)
        a = z.copy()
        a[7 % g.n_ch] = True
        pats.append(a)
        pats.append(np.ones_like(z))
        a = z.copy()
        a[:, ::2] = True
        pats.append(a)
        a = z.copy().reshape(g.n_ch, g.out_h, g.out_w)
        a[:, -1, :] = True
        a[:, :, -1] = True
        pats.append(a.reshape(g.n_ch, g.n_neur))
        a = z.copy()
        a[::3, 1::7] = True
        pats.append(a)
        # big windows with a fast receiver, small ones with long stalls
        profiles = ["heavy", "heavy", "heavy", "random", "none", "light", "random", "heavy"]
        self.env.ana.queue.extend(pats + [z] * 4)  # empty windows for late samples after EN=0
        await self.env.configure(tick_div=1, window_len=20, rst_width=3)
        self.env.aer.set_profile(profiles[0])
        await self.regs.write("CTRL", 1)
        for i in range(len(pats)):
            await RisingEdge(self.dut.ana_sample)
            self.env.aer.set_profile(profiles[i])
        await self.env.stop_windows()
        st = self.env.sb.check(final=True)
        if st.windows < len(pats):
            raise AssertionError(f"{st.windows} windows checked, {len(pats)} patterns sent")


@pyuvm.test()
class AerThroughput(_ReadoutTest):
    """Cycles per event with an immediate receiver (no backpressure): a full channel's burst
    must leave at the documented rate (rtl/p2m_aer_tx.v: 6 cycles per event when the
    acknowledge follows each edge of aer_req in the same time step)."""

    BACKPRESSURE = "none"

    async def body(self) -> None:
        g = self.geo
        a = g.zeros()
        a[3 % g.n_ch] = True
        a[20 % g.n_ch, np_rng("tp").choice(g.n_neur, min(100, g.n_neur), replace=False)] = True
        self.env.ana.queue.append(a)
        await self.env.configure(tick_div=1, window_len=500)
        await self.regs.write("CTRL", 1)
        await RisingEdge(self.dut.ana_sample)
        t0 = now_ps()
        await self.env.stop_windows()
        self.env.sb.check(final=True)
        ev = [e for e in self.env.sb.events if e.t_req >= t0 and e.ch == 3 % g.n_ch]
        if len(ev) < 2:
            self.logger.info("a channel of one neuron: no burst to time")
            return
        gaps = np.diff([e.t_req for e in ev]) / self.timing.clk_period_ps
        cpe = float(np.mean(gaps))
        self.logger.info(f"AER throughput, full channel, no backpressure: {cpe:.2f} cycles/event "
                         f"(min {gaps.min():.0f}, max {gaps.max():.0f})")
        if cpe > 6.0 + 1e-9:
            raise AssertionError(f"{cpe:.2f} cycles per event, documented 6 (rtl/p2m_aer_tx.v)")
