"""Threshold and weight programming of `p2m_top` (PROG_* registers, ``ana_prog*`` ports).

Testpoints (tb/testplan.md): prog_pulse_counts, prog_pulse_widths, prog_busy_done,
prog_chip_config, prog_reprogram.

Each PROG_CMD.START must give one reset pulse (dir 1, PROG_RST_WIDTH cycles) then exactly
PROG_CODE set pulses (dir 0, PROG_SET_WIDTH cycles) on PROG_ADDR's target/index, PROG_GAP
idle cycles between set pulses (max(PROG_GAP, 2) after the reset pulse). A whole chip is
programmed from a ChipConfig (tb/program_chip.py: weights of every cell with a device, the
threshold divider's top device = code, bottom device = 2**threshold_bits - 1 - code) and the
analog agent's device model must then hold every code.

Run: ``make sim TEST=test_threshold_ctrl``.
"""

from __future__ import annotations

import os

import pyuvm
from cocotb.triggers import ReadOnly, RisingEdge

from analog_models.chip_config import ChipConfig
from tb import regs
from tb.common import now_ps, py_rng, sig_int, test_seed
from tb.env import P2mBaseTest
from tb.program_chip import chip_commands, expected_devices, program_chip, random_config


def busy_cycles(code: int, rst_w: int, set_w: int, gap: int) -> int:
    """PROG_BUSY cycles of one command (rtl/p2m_prog_seq.v header)."""
    if code == 0:
        return 2 + rst_w
    return 2 + rst_w + max(gap, 2) - gap + code * (gap + set_w)


@pyuvm.test()
class ProgRandomCommands(P2mBaseTest):
    """Random targets, indices, codes (0 and 255 included) and widths/gaps (1 included):
    exact pulse counts, widths, gaps, directions; PROG_BUSY length as documented. Then one
    directed command for every `target x code` coverage bin still empty (closure)."""

    async def body(self) -> None:
        rng = py_rng("prog")
        r, dut = self.regs, self.dut
        await r.write("IRQ_EN", 1)
        codes = [0, 1, 255, 15, 63] + [rng.randint(0, 80) for _ in range(25)]
        for i, code in enumerate(codes):
            if i % 5 == 0:
                await r.write("PROG_SET_WIDTH", rng.choice([1, 2, 4, rng.randint(1, 12)]))
                await r.write("PROG_RST_WIDTH", rng.choice([1, 32, rng.randint(1, 64)]))
                await r.write("PROG_GAP", rng.choice([1, 2, 3, rng.randint(1, 6)]))
            target = rng.choice([regs.TARGET_WEIGHT, regs.TARGET_TH_TOP, regs.TARGET_TH_BOT])
            g = self.geo
            index = (rng.randrange(g.n_weights) if target == regs.TARGET_WEIGHT
                     else rng.randrange(g.n_ch))
            if i == 1:
                index = 2**g.prog_idx_bits - 1 if target == regs.TARGET_WEIGHT else g.n_ch - 1
            if i == 7:
                # reserved target: the pulses run, no device addressed
                target, index = 3, min(5, 2**g.prog_idx_bits - 1)
            await self.env.program(target, index, code, wait=False)
            t0 = now_ps()
            if sig_int(dut.irq) != 1:
                await RisingEdge(dut.irq)
            want = busy_cycles(code, r.value("PROG_RST_WIDTH"), r.value("PROG_SET_WIDTH"),
                               r.value("PROG_GAP"))
            got_ns = (now_ps() - t0) / 1000
            self.logger.debug(f"code {code}: irq after {got_ns:.0f} ns, busy {want} cycles")
            await self.env.wait_prog_done()
            self._check_device(target, index, code)
        # coverage closure: one directed command for each (target, code class) of the
        # `target x code` cross the random draw above left empty (deterministic per seed)
        rep_code = {"0": 0, "1": 1, "2-14": 9, "15 (4-bit max)": 15, "16-62": 37,
                    "63 (6-bit max)": 63, "64-254": 200, "255": 255}
        tgt = {"weight": regs.TARGET_WEIGHT, "threshold top": regs.TARGET_TH_TOP,
               "threshold bottom": regs.TARGET_TH_BOT}
        cross = self.env.prog_sb.cov.crosses["target x code"]
        holes = [k for k, v in cross.hits.items() if not v]
        for j, (t_label, c_label) in enumerate(holes):
            target, code = tgt[t_label], rep_code[c_label]
            index = (7 * j) % self.geo.n_ch
            await self.env.program(target, index, code)
            self._check_device(target, index, code)
        self.logger.info(f"{len(holes)} directed commands for target x code holes")
        n = self.env.prog_sb.check()
        self.logger.info(f"{n} commands, {self.env.prog_sb.pulses_checked} pulses checked")

    def _check_device(self, target: int, index: int, code: int) -> None:
        """AssertionError unless the analog model's device (target, index) holds ``code``."""
        dev = self.env.ana.device_code(target, index)
        if dev != code:
            raise AssertionError(f"device (target {target}, index {index}) holds {dev} after "
                                 f"programming code {code}")


@pyuvm.test()
class ProgBusyDone(P2mBaseTest):
    """STATUS.PROG_BUSY is high for exactly the documented number of cycles, PROG_DONE rises
    as it falls and stays (sticky) until written 1, phase = PROGRAM while busy."""

    async def body(self) -> None:
        r, dut = self.regs, self.dut
        for code, rw, sw, gap in ((0, 5, 1, 1), (3, 1, 1, 1), (7, 10, 3, 4), (40, 32, 4, 2)):
            await r.write("PROG_RST_WIDTH", rw)
            await r.write("PROG_SET_WIDTH", sw)
            await r.write("PROG_GAP", gap)
            # any index: the busy time does not depend on it (5 on a chip of 6 channels or more)
            await self.env.program(regs.TARGET_TH_BOT, min(5, self.geo.n_ch - 1), code,
                                   wait=False)
            # the START was taken at the edge that ended the write; count PROG phase cycles
            n = 0
            await ReadOnly()  # values after the edge that took the START
            while sig_int(dut.phase) == regs.PHASE["PROGRAM"]:
                n += 1
                await RisingEdge(dut.clk)
                await ReadOnly()
            await RisingEdge(dut.clk)  # the clock runs one edge after the last busy one
            want = busy_cycles(code, rw, sw, gap)
            self.logger.info(f"code {code}: PROGRAM for {n} cycles, documented {want}")
            if n != want:
                raise AssertionError(f"code {code} rst {rw} set {sw} gap {gap}: phase PROGRAM for "
                                     f"{n} cycles, documented {want}")
            st = await r.read("STATUS")
            f = regs.reg("STATUS").field
            if f("PROG_BUSY").get(st) or not f("PROG_DONE").get(st):
                raise AssertionError(f"STATUS = 0x{st:x} after programming")
            await self.env.cycles(5)
            if not f("PROG_DONE").get(await r.read("STATUS")):
                raise AssertionError("PROG_DONE not sticky")
            await r.write("STATUS", f("PROG_DONE").mask)
            if f("PROG_DONE").get(await r.read("STATUS")):
                raise AssertionError("PROG_DONE not cleared by writing 1")
        self.env.prog_sb.check()


@pyuvm.test()
class ProgChipFromConfig(P2mBaseTest):
    """Program a whole chip from a ChipConfig file (``P2M_CHIP_CONFIG`` if set, else a random
    ``cmos+x`` one for the RTL geometry, saved to the build dir): every weight cell with a
    device (at most 576 for the default 32 channels) and every channel's threshold divider
    (top = code, bottom = 2**bits - 1 - code); then reprogram it with an
    ``mdwmtj`` configuration. The device model must match each configuration exactly."""

    async def body(self) -> None:
        path = self.run_cfg.chip_config
        bdir = self.run_cfg.test_dir
        if path:
            cfgs = [ChipConfig.load(path)]
        else:
            cfgs = [random_config(test_seed(), "cmos+x", geo=self.geo),
                    random_config(test_seed() + 1, "mdwmtj", geo=self.geo)]
            cfgs[0].save(os.path.join(bdir, "chip_config_cmosx.json"))
            cfgs = [ChipConfig.load(os.path.join(bdir, "chip_config_cmosx.json")), cfgs[1]]
        await self.regs.write("PROG_RST_WIDTH", 8)
        await self.regs.write("PROG_SET_WIDTH", 2)
        await self.regs.write("PROG_GAP", 1)
        for cfg in cfgs:
            n = await program_chip(self.env, cfg)
            want = expected_devices(cfg, self.geo)
            bad = [(k, v, self.env.ana.device_code(*k)) for k, v in want.items()
                   if self.env.ana.device_code(*k) != v]
            if bad:
                (t, i), v, got = bad[0]
                raise AssertionError(f"{cfg.weight_config}: {len(bad)} device(s) wrong, first "
                                     f"target {t} index {i}: holds {got}, config says {v}")
            n_w = sum(1 for c in chip_commands(cfg, self.geo) if c[0] == regs.TARGET_WEIGHT)
            self.logger.info(f"programmed {cfg.weight_config} chip: {n} commands ({n_w} weight "
                             f"cells, {n - n_w} threshold devices), device model matches")
        self.env.prog_sb.check()
