"""Long AER runs with the HDL agents: Python wakes once per window (tb.hdl_agents).

Testpoints (tb/testplan.md): aer_long_hdl.

The HDL receiver (seeded pseudo-random acknowledge and release delays, asynchronous to clk)
answers every handshake and fills its event FIFO; the HDL flag memory answers ana_ch_sel and
logs the reset pulses. At each ana_sample Python checks the previous window exactly (every
address in (channel, y, x) order, one reset pulse of RST_WIDTH per spiking channel, masks)
and writes the new window's flags. ``P2M_AER_SPIKES`` sets the spike count (default
100,000); the regression runs it short.

Run: ``make sim TEST=test_long_run`` (``P2M_AER_SPIKES=1000000`` for a million spikes).
"""

from __future__ import annotations

import cocotb
import pyuvm
from cocotb.triggers import Event, RisingEdge

from tb.analog_agent import FlagModel
from tb.common import np_rng
from tb.env import P2mBaseTest
from tb.hdl_agents import HdlReadout


@pyuvm.test()
class LongRunHdl(P2mBaseTest):
    """Random windows (empty to full channels) under random backpressure of 0-60 ns per
    half handshake, windows (20 us) shorter than their readouts: every window checked
    exactly, no protocol violation, CNT_EVENTS = the events received."""

    HDL_AGENTS = True

    async def body(self) -> None:
        target = self.run_cfg.aer_spikes
        hdl = HdlReadout(self.dut, self.geo, self.timing)
        hdl.rst_width = 4
        model = FlagModel(np_rng("long_flags"), geometry=self.geo)
        await self.env.configure(tick_div=1, window_len=20, rst_width=4)
        hdl.enable(self.seed, max_ack_ns=60, max_rel_ns=40)
        state = {"latched": 0}
        enough = Event()

        async def serve() -> None:  # one wake-up per window
            while True:
                await RisingEdge(self.dut.ana_sample)
                hdl.check_window()
                flags = model.window() if not enough.is_set() else self.geo.zeros()
                hdl.write_flags(flags)  # a sample still pending after EN = 0 reads none
                state["latched"] += int(flags.sum())
                if state["latched"] >= target:
                    enough.set()

        task = cocotb.start_soon(serve())
        await self.regs.write("CTRL", 1)
        await enough.wait()
        await self.regs.write("CTRL", 0)
        await self.env.wait_readout_idle()
        task.cancel()
        hdl.check_window()
        hdl.check_protocol()
        cnt = await self.regs.read("CNT_EVENTS")
        if cnt != hdl.events:
            raise AssertionError(f"CNT_EVENTS = {cnt}, the HDL receiver got {hdl.events}")
        self.logger.info(f"HDL agents: {hdl.events} spikes in {hdl.windows} windows, "
                         f"{hdl.resets} channel resets checked")
