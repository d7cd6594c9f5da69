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

:class:`P2mBaseTest` starts the clock inside the simulator (cocotb's GPI clock: Python sleeps
between boundary events), resets the chip (and registers the power-up global reset the RTL
runs after every ``rst_n`` release, REGISTERS.md "Reset"), runs the test's ``body()``, then
the end-of-test checks (protocol, scoreboards, pulse stability) and prints the coverage
report. A failure names the seed and the replay command.
"""

from __future__ import annotations

import os

import cocotb
from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge, Timer, with_timeout
from pyuvm import uvm_env, uvm_test

from tb import regs
from tb.aer_agent import AerMonitor, AerResponder
from tb.analog_agent import AnalogAgent
from tb.apb_agent import ApbAgent, RegBlock
from tb.common import CLK_PERIOD_NS, init_inputs, start_clock, test_seed
from tb.coverage import DB
from tb.run import WAVES_REC, replay_command
from tb.scoreboard import ProgCommand, ProgScoreboard, ReadoutScoreboard

POWERUP_GRST_CYCLES = 19  # REGISTERS.md "Reset": the power-up global reset is over after 19


class P2mEnv(uvm_env):
    """Agents + scoreboards (see the module docstring)."""

    def build_phase(self) -> None:
        self.apb = ApbAgent("apb", self)
        self.aer = AerResponder("aer_rx", self)
        self.aer_mon = AerMonitor("aer_mon", self)
        self.ana = AnalogAgent("analog", self)
        self.sb = ReadoutScoreboard("readout_sb", self)
        self.prog_sb = ProgScoreboard("prog_sb", self)

    def connect_phase(self) -> None:
        self.aer_mon.ap.connect(self.sb.aer_fifo.analysis_export)
        self.aer.ap.connect(self.sb.ack_fifo.analysis_export)
        self.ana.win_ap.connect(self.sb.win_fifo.analysis_export)
        self.ana.rst_ap.connect(self.sb.rst_fifo.analysis_export)
        self.ana.rstn_ap.connect(self.sb.rstn_fifo.analysis_export)
        self.ana.prog_ap.connect(self.prog_sb.prog_fifo.analysis_export)
        self.regs = RegBlock(self.apb)
        self.ana.regs = self.regs

    # ------------------------------------------------------------ helpers for tests
    async def reset(self, cycles: int = 5) -> None:
        """Assert rst_n for ``cycles``, release it (synchronously), register the power-up
        global reset and wait until it is over."""
        dut = cocotb.top
        await Timer(CLK_PERIOD_NS // 4 + 1, unit="ns")  # asynchronous assertion
        dut.rst_n.value = 0
        dut.psel.value = 0
        dut.penable.value = 0
        await ClockCycles(dut.clk, cycles)
        await FallingEdge(dut.clk)
        dut.rst_n.value = 1
        self.regs.reset_mirror()
        self.sb.expect_global(regs.reg("RST_WIDTH").reset)
        await ClockCycles(dut.clk, POWERUP_GRST_CYCLES + 1)

    async def configure(self, tick_div: int, window_len: int, rst_width: int | None = None) -> None:
        await self.regs.write("TICK_DIV", tick_div)
        await self.regs.write("WINDOW_LEN", window_len)
        if rst_width is not None:
            await self.regs.write("RST_WIDTH", rst_width)

    async def wait_windows(self, n: int, timeout_us: float = 1e6) -> None:
        """Wait for ``n`` more ana_sample strobes."""
        dut = cocotb.top
        for _ in range(n):
            await with_timeout(RisingEdge(dut.ana_sample), timeout_us, "us")

    async def wait_readout_idle(self, timeout_us: float = 1e5) -> None:
        """Wait until no readout/reset is running (``phase`` not SAMPLE/READOUT/RESET/GRESET),
        the AER bus is back to zero, and it stays so for 4 cycles (a late sample that was
        pending starts right after a readout ends). Wakes only on phase changes."""
        dut = cocotb.top
        quiet = (regs.PHASE["IDLE"], regs.PHASE["INTEGRATE"], regs.PHASE["PROGRAM"])

        def idle() -> bool:
            ph = int(dut.phase.value) if dut.phase.value.is_resolvable else -1
            return ph in quiet and int(dut.aer_req.value) == 0

        async def _wait() -> None:
            while True:
                while not idle():
                    await dut.phase.value_change
                await ClockCycles(dut.clk, 4)
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
        dut = cocotb.top
        r = self.regs
        if r.value("IRQ_EN", "PROG_DONE"):
            if int(dut.irq.value) != 1:
                await with_timeout(RisingEdge(dut.irq), timeout_us, "us")
        else:
            while True:
                st = await r.read("STATUS")
                if not regs.reg("STATUS").field("PROG_BUSY").get(st):
                    break
                await ClockCycles(dut.clk, 16)
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


class P2mBaseTest(uvm_test):
    """Base test: subclasses implement ``async def body(self)`` (``self.env``, ``self.dut``,
    ``self.regs``). Class attributes: ``BACKPRESSURE`` profile, ``TIMEOUT_US``."""

    BACKPRESSURE = "random"
    CLOCK_IMPL = "gpi"

    def build_phase(self) -> None:
        self.env = P2mEnv("env", self)

    def end_of_elaboration_phase(self) -> None:
        self.dut = cocotb.top
        self.regs = self.env.regs
        self.seed = test_seed()
        self.env.aer.set_profile(self.BACKPRESSURE)

    async def run_phase(self) -> None:
        self.raise_objection()
        dut = self.dut
        init_inputs(dut)
        start_clock(dut, self.CLOCK_IMPL)
        WAVES_REC.start(dut)  # waves on: first ana_sample edges for the GTKWave layout
        name = type(self).__name__
        replay = replay_command(os.environ.get("P2M_TEST", "<module>"), self.seed,
                                testcase=name)
        self.logger.info(f"{name}: seed {self.seed} (replay: {replay})")
        try:
            await self.env.reset()
            await self.body()
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
