"""Reset sequencer of `p2m_top`: per-channel masked reset pulses and the global reset.

Testpoints (tb/testplan.md): rst_width_exact, rst_mask_equals_spikes, rst_qualifiers_stable,
rst_global, rst_global_refused_busy, rst_powerup_global.

Run: ``make sim TEST=test_reset_sequencer``.
"""

from __future__ import annotations

import numpy as np
import pyuvm
from cocotb.triggers import RisingEdge, Timer

from tb import regs
from tb.analog_agent import FlagModel
from tb.common import np_rng, py_rng, sig_int
from tb.env import P2mBaseTest


@pyuvm.test()
class ResetWidthsAndMasks(P2mBaseTest):
    """For RST_WIDTH in {0 (stores 1), 1, 2, 16, random up to 300, 256 (the first width
    that needs a 9th counter bit: coverage bin rst_width ">= 256")}: random windows; every
    channel with spikes gets exactly one pulse of exactly RST_WIDTH cycles, ana_rst_ch = the
    channel, ana_rst_mask = its spikes, after its last AER event and before the next channel
    (scoreboard), with ch/mask/all stable one cycle around the pulse (analog agent)."""

    BACKPRESSURE = "light"

    async def body(self) -> None:
        rng = py_rng("widths")
        self.env.ana.model = FlagModel(np_rng("rst_flags"),
                                       weights=(0.5, 0.3, 0.15, 0.05, 0.0, 0.0), geometry=self.geo)
        widths = [0, 1, 2, 16, rng.randint(3, 40), rng.randint(100, 300), 256]
        await self.env.configure(tick_div=1, window_len=60)
        for w in widths:
            await self.regs.write("RST_WIDTH", w)
            first = self.env.ana.model.window()
            first[:, 0] = True  # a pulse of this width on any chip (one of a single channel)
            self.env.ana.queue.append(first)
            await self.regs.write("CTRL", 1)
            await self.env.wait_windows(3)
            await self.env.stop_windows()
            st = self.env.sb.check(final=True)
            self.logger.info(f"RST_WIDTH={w}: {st.channel_resets} channel resets checked so far")
        pulses = [p for p in self.env.ana.rst_pulses if not p.all]
        seen = {p.width for p in pulses}
        if not {1, 2, 16, 256} <= seen:
            raise AssertionError(f"pulse widths seen {sorted(seen)}, expected 1, 2, 16 and 256 "
                                 f"among them")


@pyuvm.test()
class GlobalReset(P2mBaseTest):
    """CTRL.GRST when idle and between windows: one ana_rst pulse with ana_rst_all = 1 of
    RST_WIDTH cycles, STATUS.GRST_BUSY and phase GRESET while it runs; refused with PSLVERR
    (and no pulse) while a readout is busy; the power-up global reset after rst_n."""

    async def body(self) -> None:
        r, dut = self.regs, self.dut
        gr = regs.pack("CTRL", GRST=1)
        # the power-up one (registered by env.reset) was seen
        glob = [p for p in self.env.ana.rst_pulses if p.all]
        if len(glob) != 1 or glob[0].width != 16:
            raise AssertionError(f"power-up global reset: {len(glob)} pulse(s) "
                                 f"{[p.width for p in glob]}, expected one of 16 cycles")
        # idle chip
        for w in (5, 1, 33):
            await r.write("RST_WIDTH", w)
            self.env.sb.expect_global(w)
            n = len(self.env.ana.rst_pulses)
            await r.write("CTRL", gr)
            st = await r.read("STATUS")
            f = regs.reg("STATUS").field
            if not f("GRST_BUSY").get(st) or f("PHASE").get(st) != regs.PHASE["GRESET"]:
                if w > 3:
                    raise AssertionError(f"STATUS = 0x{st:x} during a global reset: GRST_BUSY "
                                         f"and PHASE = 5 expected")
            for _ in range(w + 10):  # the pulse may be over already (short widths)
                if len(self.env.ana.rst_pulses) > n:
                    break
                await self.env.cycles(1)
            await self.env.cycles(3)
            if await r.read("STATUS") != 0:
                raise AssertionError("STATUS not 0 after the global reset")
        # a GRST while a global reset runs queues one more
        await r.write("RST_WIDTH", 40)
        n = len(self.env.ana.rst_pulses)
        self.env.sb.expect_global(40)
        self.env.sb.expect_global(40)
        await r.write("CTRL", gr)
        await r.write("CTRL", gr)
        await self.env.cycles(2 * 42 + 10)
        if len(self.env.ana.rst_pulses) - n != 2:
            raise AssertionError(f"two CTRL.GRST in a row gave {len(self.env.ana.rst_pulses) - n} "
                                 f"global reset pulses, expected 2 (the second is queued)")
        # between windows (EN = 1, integrating), and refused during a readout
        await self.env.configure(tick_div=1, window_len=30, rst_width=8)
        self.env.ana.model = FlagModel(np_rng("grst"), weights=(0.5, 0.3, 0.2, 0, 0, 0),
                                       geometry=self.geo)
        await r.write("CTRL", 1)
        refused = accepted = 0
        for _ in range(4):
            # at least one spike per channel: the readout outlasts the write on any chip
            w = self.env.ana.model.window()
            w[:, 0] = True
            self.env.ana.queue.append(w)
            await RisingEdge(dut.ana_sample)
            await Timer(5 * self.timing.clk_period_ps, unit="ps")
            # readout busy now: refused (the whole write, EN = 0 included), no pulse
            await r.write("CTRL", gr, expect_err=True)
            refused += 1
            if await r.read("CTRL") != 1:
                raise AssertionError("a refused CTRL write (GRST while busy) changed CTRL.EN")
            await self.env.wait_readout_idle()
            if sig_int(dut.phase) == regs.PHASE["INTEGRATE"]:
                self.env.sb.expect_global(8)
                await r.write("CTRL", gr | 1)
                accepted += 1
        await self.env.stop_windows()
        self.logger.info(f"GRST: {accepted} accepted between windows, {refused} refused in readout")
        if not accepted:
            raise AssertionError("no GRST was tried between windows")


@pyuvm.test()
class ResetMaskFullAndSparse(P2mBaseTest):
    """Masks at the extremes: a full channel (all 256 bits), a single bit at each end, and
    all 32 channels at once, with the minimum pulse width."""

    BACKPRESSURE = "none"

    async def body(self) -> None:
        g = self.geo
        z = g.zeros()
        a = z.copy()
        a[0, :] = True
        b = z.copy()
        b[g.n_ch - 1, g.n_neur - 1] = True
        b[1 % g.n_ch, 0] = True
        c = np.ones_like(z)
        self.env.ana.queue.extend([a, b, c] + [z] * 8)  # empty windows after: late samples
        await self.env.configure(tick_div=1, window_len=30, rst_width=1)
        await self.regs.write("CTRL", 1)
        await self.env.wait_windows(3)
        await self.env.stop_windows(timeout_us=1e4)
        st = self.env.sb.check(final=True)
        want = 1 + len({g.n_ch - 1, 1 % g.n_ch}) + g.n_ch
        if st.channel_resets != want:
            raise AssertionError(f"{st.channel_resets} channel resets, expected {want}")
