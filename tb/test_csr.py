"""CSR block of `p2m_top` over APB3 (rtl/REGISTERS.md "Register map").

Testpoints (tb/testplan.md): csr_reset_values, csr_rw, csr_min_one, csr_ro_write,
csr_w1p_w1c, csr_illegal_addr, csr_prog_busy_lock, csr_irq, csr_probe.

Run: ``make sim TEST=test_csr`` (or ``python -m tb.run test_csr --seed N``).
"""

from __future__ import annotations

import pyuvm
from cocotb.triggers import RisingEdge

from tb import regs
from tb.common import py_rng, sig_int
from tb.env import P2mBaseTest


@pyuvm.test()
class CsrResetValues(P2mBaseTest):
    """Every register reads its reset value after rst_n (and after the power-up GRST)."""

    async def body(self) -> None:
        for r in regs.REGS:
            got = await self.regs.read(r.name)
            if got != r.reset:
                raise AssertionError(f"{r.name} (0x{r.addr:03x}) reset value 0x{got:08x}, "
                                     f"expected 0x{r.reset:08x}")
        ph = sig_int(self.dut.phase)
        if ph != regs.PHASE["IDLE"]:
            raise AssertionError(f"phase after reset = {ph}, expected 0 (IDLE)")


@pyuvm.test()
class CsrReadWrite(P2mBaseTest):
    """RW registers keep what is written (field bits only; reserved bits read 0); fields
    documented ">= 1" store 1 for a 0; bits [1:0] of paddr are ignored."""

    async def body(self) -> None:
        rng = py_rng("csr_rw")
        rw = [r for r in self.regs.map.values() if r.access == "RW" and r.name != "CTRL"]
        for _ in range(6):
            for r in rng.sample(rw, len(rw)):
                v = rng.getrandbits(32)
                await self.regs.write(r.name, v)
                got = await self.regs.read(r.name)
                want = self.regs.value(r.name)
                if got != want:
                    raise AssertionError(f"{r.name}: wrote 0x{v:08x}, read 0x{got:08x}, "
                                         f"expected 0x{want:08x} (mask 0x{r.writable_mask:08x})")
        for r in rw:
            for f in r.fields:
                if f.min_one:
                    await self.regs.write(r.name, 0)
                    got = f.get(await self.regs.read(r.name))
                    if got != 1:
                        raise AssertionError(f"{r.name}.{f.name}: a write of 0 must store 1, "
                                             f"read {got}")
        # CTRL.EN (keep the chip idle: EN back to 0)
        await self.regs.write("CTRL", 1)
        if await self.regs.read("CTRL") != 1:
            raise AssertionError("CTRL.EN does not read back 1")
        await self.regs.write("CTRL", 0)
        await self.env.wait_readout_idle()
        # byte-address bits [1:0] are ignored
        for low in (1, 2, 3):
            item = await self.regs.transfer(regs.reg("ID").addr | low, False)
            if item.rdata != regs.ID_VALUE:
                raise AssertionError(f"read at 0x{low:03x} returned 0x{item.rdata:08x}, "
                                     f"expected the ID (paddr[1:0] ignored)")
        for r in rw:  # restore defaults for later tests
            await self.regs.write(r.name, r.reset)


@pyuvm.test()
class CsrReadOnlyAndIllegal(P2mBaseTest):
    """A write to a RO register and any access to an unmapped address answer PSLVERR and
    change nothing; STATUS writes (W1C) are legal; W1P bits read 0."""

    async def body(self) -> None:
        rng = py_rng("csr_ro")
        for r in regs.REGS:
            if r.access != "RO":
                continue
            before = await self.regs.read(r.name)
            await self.regs.write(r.name, rng.getrandbits(32) | 1, expect_err=True)
            after = await self.regs.read(r.name)
            if after != before:
                raise AssertionError(f"{r.name}: a refused write changed it 0x{before:08x} -> "
                                     f"0x{after:08x}")
        await self.regs.write("STATUS", 0xFFFFFFFF)  # W1C: legal, clears nothing set
        if await self.regs.read("STATUS") != 0:
            raise AssertionError("STATUS not 0 after a W1C write on an idle chip")
        # W1P reads 0
        await self.regs.write("CTRL", regs.pack("CTRL", CNT_CLR=1))
        if await self.regs.read("CTRL") != 0:
            raise AssertionError("CTRL.CNT_CLR (W1P) does not read 0")
        if await self.regs.read("PROG_CMD") != 0:
            raise AssertionError("PROG_CMD (W1P) does not read 0")
        # every unmapped word address, read and write
        snapshot = {r.name: await self.regs.read(r.name) for r in regs.REGS}
        mapped = set(regs.BY_ADDR)
        for a in range(0, 0x1000, 4):
            if a in mapped:
                continue
            it = await self.regs.transfer(a, rng.random() < 0.5, rng.getrandbits(32),
                                          expect_err=True)
            if not it.write and it.rdata != 0:
                raise AssertionError(f"unmapped read 0x{a:03x} returned 0x{it.rdata:08x}, "
                                     f"expected 0 (REGISTERS.md v1.1)")
        for r in regs.REGS:
            got = await self.regs.read(r.name)
            if got != snapshot[r.name]:
                raise AssertionError(f"{r.name} changed 0x{snapshot[r.name]:08x} -> 0x{got:08x} "
                                     f"after accesses to unmapped addresses")


@pyuvm.test()
class CsrProgBusyLock(P2mBaseTest):
    """While STATUS.PROG_BUSY: writes to PROG_* and a second START answer PSLVERR and change
    nothing; PROG_DONE is W1C; IRQ_EN.PROG_DONE drives irq."""

    async def body(self) -> None:
        r, dut = self.regs, self.dut
        await r.write("PROG_SET_WIDTH", 8)
        await r.write("PROG_GAP", 3)
        # indices inside any chip (17 and 3 at the default geometry)
        w_idx, th_idx = min(17, self.geo.n_weights - 1), min(3, self.geo.n_ch - 1)
        await self.env.program(regs.TARGET_WEIGHT, w_idx, 200, wait=False)
        st = await r.read("STATUS")
        if not regs.reg("STATUS").field("PROG_BUSY").get(st):
            raise AssertionError(f"STATUS = 0x{st:x} right after PROG_CMD.START: PROG_BUSY not set")
        phase = regs.reg("STATUS").field("PHASE").get(st)
        if phase != regs.PHASE["PROGRAM"]:
            raise AssertionError(f"STATUS.PHASE = {phase} while programming, expected 6")
        for name in regs.PROG_LOCKED:
            before = await r.read(name)
            await r.write(name, 0x5 if name != "PROG_CMD" else 1, expect_err=True)
            if name != "PROG_CMD" and await r.read(name) != before:
                raise AssertionError(f"{name} changed by a refused write while PROG_BUSY")
        # other registers stay writable
        await r.write("PROBE", 0x123)
        await r.write("IRQ_EN", 1)  # PROG_DONE interrupt
        await self.env.wait_prog_done(timeout_us=200)
        await self.env.cycles(2)  # irq is a registered level: one cycle after the W1C
        if sig_int(dut.irq) != 0:
            raise AssertionError("irq still high after PROG_DONE was cleared (W1C)")
        # the irq is a level of (STATUS.PROG_DONE & IRQ_EN.PROG_DONE)
        await self.env.program(regs.TARGET_TH_TOP, th_idx, 2, wait=False)
        await RisingEdge(dut.irq)
        await r.write("IRQ_EN", 0)
        await self.env.cycles(1)
        if sig_int(dut.irq) != 0:
            raise AssertionError("irq stays high with IRQ_EN.PROG_DONE = 0")
        st = await r.read("STATUS")
        if not regs.reg("STATUS").field("PROG_DONE").get(st):
            raise AssertionError("PROG_DONE must stay set (sticky) until written 1")
        await r.write("STATUS", regs.reg("STATUS").field("PROG_DONE").mask)
        if await r.read("STATUS") != 0:
            raise AssertionError("STATUS not 0 after clearing PROG_DONE")
        await self.env.cycles(4)


@pyuvm.test()
class CsrProbe(P2mBaseTest):
    """PROBE selects the neuron on the analog taps: probe_ch/y/x follow it."""

    async def body(self) -> None:
        rng = py_rng("csr_probe")
        chip, g = self.dut.u_dut, self.geo
        names = ("probe_ch", "probe_y", "probe_x")
        if not all(hasattr(chip, n) for n in names):
            self.logger.warning("probe_ch/probe_y/probe_x not visible: PROBE wires not checked")
            return
        dut = chip
        for _ in range(8):
            ch, y, x = rng.randrange(g.n_ch), rng.randrange(g.out_h), rng.randrange(g.out_w)
            await self.regs.write_fields("PROBE", CH=ch, Y=y, X=x)
            await self.env.cycles(1)
            got = tuple(sig_int(getattr(dut, n)) for n in names)
            if got != (ch, y, x):
                raise AssertionError(f"PROBE = ch {ch} y {y} x {x}, probe wires read {got}")

