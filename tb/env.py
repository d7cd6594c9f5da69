"""The pyuvm environment of `p2m_top` and the base test every test module builds on.

:class:`P2mEnv` holds the APB agent (+ :class:`~tb.apb_agent.RegBlock` helpers), the AER
receiver and protocol monitor, the analog-boundary agent, and the scoreboards, wired through
analysis ports into the scoreboards' analysis FIFOs:

    AerMonitor.ap ----------> ReadoutScoreboard.aer_fifo
    AerResponder.ap --------> ReadoutScoreboard.ack_fifo
    AnalogAgent.win_ap -----> ReadoutScoreboard.win_fifo
    AnalogAgent.rst_ap -----> ReadoutScoreboard.rst_fifo
    AnalogAgent.rstn_ap ----> ReadoutScoreboard.rstn_fifo
    AnalogAgent.prog_ap ----> ProgScoreboard.prog_fifo

:class:`P2mBaseTest` reads the run configuration once (tb.config.RunConfig), the geometry
and clock timing from the toplevel (``p2m_tb``'s parameters), builds the bus objects and the
host clock request, and publishes all of them through pyuvm's ``ConfigDB`` (keys
``run_cfg``, ``geometry``, ``timing``, ``top``, ``chip``, ``clock_reset``, ``host_clock``,
``apb_bus``, ``aer_bus``, ``ana_bus``) before the components are built. The clocks run inside
the simulator (tb/hdl/p2m_tb.v: the slow clock always, the readout clock while the chip's
``clk_req`` or the host's request is high), so Python sleeps between boundary events. The
test resets the chip (rst_n released at a seeded random phase; the power-up global reset
the RTL runs after every release is registered, REGISTERS.md "Reset"), runs ``body()``, then
the end-of-test checks (protocol, scoreboards, pulse stability) and prints the coverage
report. A failure names the seed and the replay command.
"""

from __future__ import annotations

import cocotb
from cocotb.triggers import RisingEdge, Timer, with_timeout
from pyuvm import uvm_env, uvm_test

from tb import config, regs
from tb.aer_agent import AerMonitor, AerResponder
from tb.analog_agent import AnalogAgent
from tb.apb_agent import ApbAgent, RegBlock
from tb.buses import AerBus, AnalogBus, ApbBus, ClockReset
from tb.common import HostClock, py_rng, run_config
from tb.config import ClockTiming, Geometry
from tb.coverage import DB
from tb.scoreboard import ProgCommand, ProgScoreboard, ReadoutScoreboard
from tb.waves import WAVES_REC

#: REGISTERS.md "Reset": the power-up global reset is over at the 21st clk edge after the
#: release of rst_n (2 edges of the reset synchronizer, setup, 16 pulse cycles, hold).
POWERUP_GRST_CYCLES = 21


class P2mEnv(uvm_env):
    """Agents + scoreboards (see the module docstring)."""

    def build_phase(self) -> None:
        self.apb = ApbAgent("apb", self)
        self.aer = AerResponder("aer_rx", self)
        self.aer_mon = AerMonitor("aer_mon", self)
        self.ana = AnalogAgent("analog", self)
        self.sb = ReadoutScoreboard("readout_sb", self)
        self.prog_sb = ProgScoreboard("prog_sb", self)

    def end_of_elaboration_phase(self) -> None:
        self.top = config.get(self, "top")
        self.cr = config.get(self, "clock_reset")
        self.host = config.get(self, "host_clock")
        self.geo = config.get(self, "geometry")
        self.timing = config.get(self, "timing")

    def connect_phase(self) -> None:
        self.aer_mon.ap.connect(self.sb.aer_fifo.analysis_export)
        self.aer.ap.connect(self.sb.ack_fifo.analysis_export)
        self.ana.win_ap.connect(self.sb.win_fifo.analysis_export)
        self.ana.rst_ap.connect(self.sb.rst_fifo.analysis_export)
        self.ana.rstn_ap.connect(self.sb.rstn_fifo.analysis_export)
        self.ana.prog_ap.connect(self.prog_sb.prog_fifo.analysis_export)
        geo = config.get(self, "geometry")
        self.regs = RegBlock(self.apb, regs.register_map(geo.prog_idx_bits, geo.ch_bits,
                                                         geo.y_bits, geo.x_bits))
        self.ana.regs = self.regs

    # ------------------------------------------------------------ helpers for tests
    async def cycles(self, n: int) -> None:
        """Wait ``n`` rising edges of the readout clock, requesting it from the clock source
        for that time (it runs only on request)."""
        await self.host.cycles(n)

    async def reset(self, cycles: int = 5, release_ps: int | None = None) -> None:
        """Assert rst_n (asynchronously) for ``cycles`` clk cycles, release it at a seeded
        random phase of clk (``release_ps`` after a rising edge; REGISTERS.md: any release
        time is legal), register the power-up global reset and wait until it is over."""
        top, P = self.top, self.timing.clk_period_ps
        await Timer(P // 4 + 1, unit="ps")  # asynchronous assertion
        top.rst_n.value = 0
        top.psel.value = 0
        top.penable.value = 0
        self.host.acquire()
        try:
            await self.cycles(cycles)
            if release_ps is None:  # not on a clk edge (the phase is otherwise arbitrary)
                release_ps = py_rng("rst_release").randrange(1, P // 2) * 2 - 1
            await Timer(release_ps, unit="ps")
            top.rst_n.value = 1
            self.regs.reset_mirror()
            self.sb.expect_global(regs.reg("RST_WIDTH").reset)
            await self.cycles(POWERUP_GRST_CYCLES + 1)
        finally:
            self.host.release()

    async def configure(self, tick_div: int, window_len: int, rst_width: int | None = None) -> None:
        """Write the window timing (and RST_WIDTH) and wait until the slow domain has it, so
        that a following CTRL.EN write starts the window grid at a known edge."""
        await self.regs.write("TICK_DIV", tick_div)
        await self.regs.write("WINDOW_LEN", window_len)
        if rst_width is not None:
            await self.regs.write("RST_WIDTH", rst_width)
        await self.wait_cfg_synced()

    async def wait_windows(self, n: int, timeout_us: float = 1e6) -> None:
        """Wait for ``n`` more ana_sample strobes."""
        for _ in range(n):
            await with_timeout(RisingEdge(self.top.ana_sample), timeout_us, "us")

    async def wait_cfg_synced(self, timeout_us: float | None = None) -> None:
        """Wait until the timer configuration has reached the slow domain (STATUS.CFG_BUSY
        = 0, REGISTERS.md "Clocking and clock-domain crossings"); the default timeout is
        100 us or 10 clk_slow periods, the longer (a slow always-on clock)."""
        if timeout_us is None:
            timeout_us = max(100.0, 10 * self.timing.slow_period_ps / 1e6)
        f = regs.reg("STATUS").field("CFG_BUSY")

        async def _wait() -> None:
            while f.get(await self.regs.read("STATUS")):
                await self.cycles(16)

        await with_timeout(_wait(), timeout_us, "us")

    async def stop_windows(self, timeout_us: float = 1e5) -> None:
        """CTRL.EN = 0, then wait until the chip is quiet: the write has reached the slow
        domain (STATUS.CFG_BUSY = 0: no window ends after it), a window that ended while it
        crossed (about 3 slow periods) has been sampled, and its readout is over. A bare
        wait_readout_idle after the write misses such a window when windows are shorter
        than the crossing. ``timeout_us``: that of wait_readout_idle."""
        await self.regs.write("CTRL", 0)
        await self.wait_cfg_synced()
        t = self.timing
        await Timer(t.clk_start_ps + 8 * t.clk_period_ps, unit="ps")  # its sample starts
        await self.wait_readout_idle(timeout_us)

    async def wait_readout_idle(self, timeout_us: float = 1e5) -> None:
        """Wait until no readout/reset is running (``phase`` not SAMPLE/READOUT/RESET/GRESET),
        the AER bus is back to zero, and it stays so for 4 cycles (a late sample that was
        pending starts right after a readout ends). Wakes only on phase changes."""
        dut = self.top
        quiet = (regs.PHASE["IDLE"], regs.PHASE["INTEGRATE"], regs.PHASE["PROGRAM"])

        def idle() -> bool:
            ph = int(dut.phase.value) if dut.phase.value.is_resolvable else -1
            return ph in quiet and int(dut.aer_req.value) == 0

        async def _wait() -> None:
            while True:
                while not idle():
                    await dut.phase.value_change
                await self.cycles(4)
                if idle():
                    return

        await with_timeout(_wait(), timeout_us, "us")

    async def program(self, target: int, index: int, code: int, wait: bool = True,
                      timeout_us: float = 1e4) -> None:
        """Program one device: PROG_ADDR, PROG_CODE, PROG_CMD.START, then (``wait``) wait for
        PROG_DONE through ``irq`` (IRQ_EN.PROG_DONE set by the caller) or by polling STATUS,
        and clear it. Registers the expected pulse sequence with the programming scoreboard."""
        r = self.regs
        await r.write_fields("PROG_ADDR", INDEX=index, TARGET=target)
        await r.write("PROG_CODE", code)
        self.prog_sb.expect(ProgCommand(target, index, code, r.value("PROG_RST_WIDTH"),
                                        r.value("PROG_SET_WIDTH"), r.value("PROG_GAP")))
        await r.write("PROG_CMD", 1)
        if wait:
            await self.wait_prog_done(timeout_us)

    async def wait_prog_done(self, timeout_us: float = 1e4) -> None:
        dut = self.top
        r = self.regs
        if r.value("IRQ_EN", "PROG_DONE"):
            if int(dut.irq.value) != 1:
                await with_timeout(RisingEdge(dut.irq), timeout_us, "us")
        else:
            while True:
                st = await r.read("STATUS")
                if not regs.reg("STATUS").field("PROG_BUSY").get(st):
                    break
                await self.cycles(16)
        st = await r.read("STATUS")
        f = regs.reg("STATUS").field
        if f("PROG_BUSY").get(st) or not f("PROG_DONE").get(st):
            raise AssertionError(f"after programming STATUS = 0x{st:x}: PROG_BUSY must be 0 and "
                                 f"PROG_DONE 1")
        await r.write("STATUS", f("PROG_DONE").mask)  # W1C

    def check_all(self, final: bool = True) -> None:
        """Every end-of-test check: AER protocol, readout and programming scoreboards, pulse
        qualifier stability."""
        self.aer_mon.check()
        self.sb.check(final=final)
        self.prog_sb.check()
        self.ana.check()


def publish_chip(dut, hdl_agents: bool = False) -> tuple[config.RunConfig, Geometry, ClockTiming]:
    """Read the run configuration, the geometry and the clock timing of the ``p2m_tb``
    toplevel ``dut`` and publish them with the bus objects in ConfigDB (``hdl_agents``:
    the HDL receiver and flag memory are in charge, the Python AER and analog agents stay
    asleep, tb.hdl_agents)."""
    from pyuvm import ConfigDB

    run_cfg, geo, timing = run_config(), Geometry.from_dut(dut), ClockTiming.from_dut(dut)
    config.publish(run_cfg, geo, timing)
    cr = ClockReset.from_dut(dut)
    db = ConfigDB()
    for key, val in (("top", dut), ("chip", getattr(dut, "u_dut", None)), ("clock_reset", cr),
                     ("hdl_agents", hdl_agents),
                     ("host_clock", HostClock(cr.host_clk_req, cr.clk)),
                     ("apb_bus", ApbBus.from_prefix(dut, "p")),
                     ("aer_bus", AerBus.from_prefix(dut, "aer")),
                     ("ana_bus", AnalogBus.from_prefix(dut, "ana"))):
        db.set(None, "*", key, val)
    return run_cfg, geo, timing


class P2mBaseTest(uvm_test):
    """Base test: subclasses implement ``async def body(self)`` (``self.env``, ``self.dut``,
    ``self.regs``, ``self.geo``, ``self.timing``). Class attribute: ``BACKPRESSURE``
    profile."""

    BACKPRESSURE = "random"
    #: True: the HDL agents serve the AER and analog boundary (one Python wake-up per window,
    #: tb.hdl_agents); the Python receiver, monitor and analog agent stay asleep.
    HDL_AGENTS = False

    def build_phase(self) -> None:
        self.dut = cocotb.top
        self.run_cfg, self.geo, self.timing = publish_chip(self.dut, self.HDL_AGENTS)
        self.env = P2mEnv("env", self)

    def end_of_elaboration_phase(self) -> None:
        self.regs = self.env.regs
        self.seed = self.run_cfg.seed
        self.env.aer.set_profile(self.BACKPRESSURE)

    async def run_phase(self) -> None:
        self.raise_objection()
        dut = self.dut
        WAVES_REC.start(dut)  # waves on: first ana_sample edges for the GTKWave layout
        name = type(self).__name__
        replay = self.run_cfg.replay(testcase=name)
        self.logger.info(f"{name}: seed {self.seed} (replay: {replay})")
        if hasattr(dut, "hdl_aer"):  # Python agents first; an HDL test of this simulation
            dut.hdl_aer.value = 0     # before may have left the HDL agents in charge
            dut.hdl_flags.value = 0
        try:
            await self.env.reset()
            await self.body()
            if not self.HDL_AGENTS:
                self.env.check_all(final=True)
        except BaseException as exc:
            self.logger.error(f"{name} FAILED with seed {self.seed}: {exc}\n"
                              f"replay: {replay}")
            raise
        finally:
            self.logger.info("coverage (cumulative over this module):\n" + DB.report())
            DB.dump()
            WAVES_REC.dump(dut)  # waves on: waves_info.json for tb.run.write_gtkw
            self.drop_objection()

    async def body(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError
