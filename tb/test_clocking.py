"""Clocks, clock request and clock-domain crossings of `p2m_top` (rtl/REGISTERS.md "Clocking
and clock-domain crossings", "Reset", "Timing").

Testpoints (tb/testplan.md): clk_idle_no_edges, clk_req_window_end, clk_edges_per_window,
rst_release_any_phase, cfg_crossing_restart.

The readout clock comes from the testbench's clock source (tb/hdl/p2m_tb_agents.v), which
runs it only while the chip's ``clk_req`` or the host's request is high; its edge counter
(``u_clk_src.edges``) and the slow clock's (``u_slow.edges``) let the tests count exactly
what an idle or a busy stretch costs.

Run: ``make sim TEST=test_clocking``.
"""

from __future__ import annotations

import pyuvm
from cocotb.triggers import ReadOnly, RisingEdge, Timer

from tb.common import now_ps, py_rng, sig_int
from tb.env import POWERUP_GRST_CYCLES, P2mBaseTest


def _edges(dut) -> int:
    return int(dut.u_clk_src.edges.value)


def empty_window_edges(geo) -> int:
    """clk edges an empty window costs (REGISTERS.md "Clocking"): F1..F4 up to the rising
    ana_sample (2 synchronizer flops, the window-end flop, the controller), the readout
    N_CH * (FLAG_SETTLE + 1) cycles from F5, the readout-done pulse, and the idle edge after
    the last edge with work."""
    return 4 + geo.empty_readout_cycles + 3


@pyuvm.test()
class ClockOnRequest(P2mBaseTest):
    """No clk edge while the chip integrates and nobody requests the clock; clk_req rises at
    the clk_slow edge that ends a window; an empty window costs exactly
    empty_window_edges() clk edges and TICK_DIV * WINDOW_LEN clk_slow edges."""

    async def body(self) -> None:
        dut, env, tm, geo = self.dut, self.env, self.timing, self.geo
        self.env.ana.queue.extend([geo.zeros()] * 20)
        await env.configure(tick_div=2, window_len=15, rst_width=4)
        # idle, EN = 0: the clock stops after the last APB access
        await Timer(5, unit="us")
        e0 = _edges(dut)
        await Timer(20, unit="us")
        if _edges(dut) != e0 or sig_int(dut.clk_req) != 0:
            raise AssertionError(f"{_edges(dut) - e0} clk edges in 20 us of idle (clk_req "
                                 f"{sig_int(dut.clk_req)}), expected none")
        await self.regs.write("CTRL", 1)
        wp = 2 * 15 * tm.slow_period_ps
        await RisingEdge(dut.ana_sample)
        last_e, last_s, last_t = _edges(dut), int(dut.u_slow.edges.value), now_ps()
        for k in range(4):
            await RisingEdge(dut.clk_req)
            t_req = now_ps()
            if t_req % tm.slow_period_ps != tm.slow_period_ps // 2:
                raise AssertionError(f"clk_req rose at {t_req / 1000:.3f} ns, not at a clk_slow "
                                     f"rising edge (window end)")
            await RisingEdge(dut.ana_sample)
            t, e, s = now_ps(), _edges(dut), int(dut.u_slow.edges.value)
            want_t = tm.first_edge_after_start(t_req) + 3 * tm.clk_period_ps
            if t != want_t or t - last_t != wp:
                raise AssertionError(f"window {k}: ana_sample at {t / 1000:.3f} ns, expected "
                                     f"{want_t / 1000:.3f} ns, period {(t - last_t) / 1000} ns "
                                     f"(window {wp / 1000} ns)")
            if e - last_e != empty_window_edges(geo) or s - last_s != 2 * 15:
                raise AssertionError(f"window {k}: {e - last_e} clk and {s - last_s} clk_slow "
                                     f"edges, expected {empty_window_edges(geo)} and 30")
            last_e, last_s, last_t = e, s, t
        self.logger.info(f"empty window: {empty_window_edges(geo)} clk edges, 30 clk_slow edges")
        await self.regs.write("CTRL", 0)
        await env.wait_readout_idle()


@pyuvm.test()
class ResetReleaseAnyPhase(P2mBaseTest):
    """rst_n released at 12 phases of clk (1 ps after an edge to 1 ps before the next):
    clk_req is high while rst_n is low and the clock runs on the chip's request alone; the
    power-up global reset's setup (ana_rst_all) comes at the 3rd clk edge after the release
    and it is over at the 21st; then the chip reads its reset values."""

    async def body(self) -> None:
        dut, P = self.dut, self.timing.clk_period_ps
        rng = py_rng("phases")
        phases = [1, P // 2, P - 1] + [rng.randrange(1, P) for _ in range(9)]
        for ph in phases:
            await Timer(P // 3, unit="ps")
            dut.rst_n.value = 0
            await Timer(1, unit="ps")
            if sig_int(dut.clk_req) != 1:
                raise AssertionError("clk_req is not 1 while rst_n is low")
            await RisingEdge(dut.clk)  # runs on the chip's request (the host holds none)
            await Timer(ph, unit="ps")  # 1 .. P-1: never exactly on a rising edge (a race)
            e0 = _edges(dut)
            dut.rst_n.value = 1
            self.regs.reset_mirror()
            self.env.sb.expect_global(16)
            await RisingEdge(dut.ana_rst_all)
            n = _edges(dut) - e0
            if n != 3:
                raise AssertionError(f"release {ph} ps after an edge: ana_rst_all at the {n}th "
                                     f"clk edge, expected the 3rd")
            while True:  # the values after each edge (ReadOnly: simulator independent)
                await RisingEdge(dut.clk)
                await ReadOnly()
                if sig_int(dut.phase) != 5:
                    break
            if _edges(dut) - e0 != POWERUP_GRST_CYCLES:
                raise AssertionError(f"power-up global reset over at edge {_edges(dut) - e0}, "
                                     f"expected {POWERUP_GRST_CYCLES}")
        await Timer(1, unit="ps")  # leave the ReadOnly phase before the APB reads
        for name in ("ID", "STATUS", "TICK_DIV", "WINDOW_LEN", "CNT_EVENTS"):
            got = await self.regs.read(name)
            if got != self.regs.reg(name).reset:
                raise AssertionError(f"{name} = 0x{got:x} after the resets")
        self.logger.info(f"{len(phases)} asynchronous releases: GRST at the 3rd edge each time")


@pyuvm.test()
class ConfigCrossing(P2mBaseTest):
    """The timer configuration crosses to clk_slow as held data: STATUS.CFG_BUSY while it
    travels; the slow copies change only at the load (never a partial word); CTRL.EN written
    1, 0, 1 back to back restarts the window grid from the transfer that carries the last
    restart (REGISTERS.md "Timing": window 1 ends 3 + TICK_DIV*WINDOW_LEN clk_slow edges
    after the first clk_slow edge that follows the transfer's launch)."""

    async def body(self) -> None:
        dut, env, tm = self.dut, self.env, self.timing
        cdc = dut.u_dut.u_timer_cdc
        self.env.ana.queue.extend([self.geo.zeros()] * 10)
        launches: list[int] = []
        loads: list[tuple[int, int, int, int]] = []

        async def watch_launch() -> None:
            while True:
                await cdc.req_tgl.value_change
                launches.append(now_ps())

        async def watch_load() -> None:
            while True:
                await cdc.ack_tgl.value_change
                await Timer(1, unit="ps")
                loads.append((now_ps(), sig_int(cdc.s_en), sig_int(cdc.s_tick_div),
                              sig_int(cdc.s_window_len)))

        import cocotb

        cocotb.start_soon(watch_launch())
        cocotb.start_soon(watch_load())
        await self.regs.write("TICK_DIV", 3)
        st = await self.regs.read("STATUS")
        if not self.regs.reg("STATUS").field("CFG_BUSY").get(st):
            raise AssertionError(f"STATUS = 0x{st:x} right after a TICK_DIV write: CFG_BUSY not set")
        await self.regs.write("WINDOW_LEN", 7)  # in flight behind TICK_DIV
        await env.wait_cfg_synced()
        if loads[-1][1:] != (0, 3, 7):
            raise AssertionError(f"slow copies after two writes: {loads[-1][1:]}, expected "
                                 f"(EN 0, TICK_DIV 3, WINDOW_LEN 7)")
        for t, _en, td, wl in loads:  # every load is a whole word written by the CSR
            if (td, wl) not in ((1, 10000), (3, 10000), (3, 7)):
                raise AssertionError(f"a partial configuration reached clk_slow at {t} ps: "
                                     f"TICK_DIV {td}, WINDOW_LEN {wl}")
        await self.regs.write("CTRL", 1)
        await self.regs.write("CTRL", 0)
        await self.regs.write("CTRL", 1)
        await RisingEdge(dut.ana_sample)
        t_last_launch = launches[-1]
        s1 = tm.next_slow_edge(t_last_launch)
        t_end = s1 + (3 + 3 * 7) * tm.slow_period_ps
        want = tm.first_edge_after_start(t_end) + 3 * tm.clk_period_ps
        if now_ps() != want:
            raise AssertionError(f"first sample after EN 1, 0, 1 at {now_ps() / 1000:.3f} ns, "
                                 f"expected {want / 1000:.3f} ns (restart carried by the "
                                 f"transfer launched at {t_last_launch / 1000:.3f} ns)")
        await self.regs.write("CTRL", 0)
        await env.wait_readout_idle()
        self.logger.info(f"{len(launches)} transfers, {len(loads)} loads")
