"""Block-level tests of `p2m_readout_ctrl` (toplevel: the block), cocotb test and pytest entry.

Contract: rtl/REGISTERS.md "Timing" (sample -> per channel: select, FLAG_SETTLE, latch, the
set flags in row-major order, one masked reset after the last handshake returned to zero;
the readout's cycle count), "Reset" (the power-up global reset); the block's header.

Around the block the tests put cycle models of its neighbours: the AER transmitter
(``TxModel`` of tb/test_block_aer_tx.py, with a receiver that answers after a seeded random
number of cycles), the reset sequencer (request at edge E, ``done`` in the cycle ending at
E + 2 + width) and the window-end source (``sample_pend`` held until ``sample_ack``, raised
at random times, also during a readout), and a comparator mux that drives the *complement*
of the selected channel's flags except in the one cycle before the FLAG_SETTLE-th edge after
``ana_ch_sel`` changed, so a latch one edge early or late reads wrong flags.

* ``CtrlModel`` is a cycle model of the block; every cycle every output is compared with it.
* The scoreboard, independent of the model: per sample, the addresses handed to the
  transmitter are exactly the set flags of each channel in (channel, y, x) order, each
  spiking channel gets one reset request with mask = its flags after its last event, and
  ``readout_done`` pulses once per readout.
* ``readout_cycle_count``: with a receiver latency of L cycles and RST_WIDTH W, a readout
  takes exactly N_CH(FLAG_SETTLE + 1) + S(2L + 6) + K(W + 6) cycles (REGISTERS.md).
* ``readout_random``: seeded random flag densities (empty to full channels), receiver
  latencies, reset widths, window ends and CTRL.GRST requests at random times.

pytest: ``test_block_readout_ctrl`` runs the module at each geometry of ``SWEEP``
(``python -m tb.run test_block_readout_ctrl --param N_CH=3 --param OUT_H=2 ...`` replays one).
"""

from __future__ import annotations

import cocotb
import pytest

from tb.blocktb import Cycle, check, clock, first_diff, param, reset, rng, run_block
from tb.config import Geometry
from tb.test_block_aer_tx import TxModel

S_IDLE, S_GRESET, S_SAMPLE, S_SETTLE, S_SEND, S_RESET, S_PICK, S_LOAD = range(8)
PHASE = {S_GRESET: 5, S_SAMPLE: 2, S_SETTLE: 3, S_PICK: 3, S_LOAD: 3, S_SEND: 3, S_RESET: 4}
OUTS = ("sample_ack", "ctrl_busy", "ro_busy", "grst_busy", "ctrl_phase", "readout_done",
        "spike_taken", "ana_sample", "ana_ch_sel", "ev_valid", "ev_addr", "rs_start_ch",
        "rs_start_all", "rs_ch", "rs_mask")


def lsb(v: int) -> int:
    """Index of the lowest set bit of v > 0."""
    return (v & -v).bit_length() - 1


class CtrlModel:
    """Cycle model of p2m_readout_ctrl (rtl/p2m_readout_ctrl.v: the flag latch with the row
    summary, S_PICK and S_LOAD, the column registers one edge behind row_bits)."""

    def __init__(self, geo: Geometry) -> None:
        self.g = geo
        self.reset()

    def reset(self) -> None:
        self.state, self.grst_pend, self.settle = S_IDLE, 1, 0
        self.sample, self.ch, self.done = 0, 0, 0
        self.flags_lat, self.flags_any, self.row_bits, self.cur_y = 0, 0, 0, 0
        self.rows_left, self.nrow = 0, 0
        self.row_ok, self.x_q, self.rest_q, self.last_q = 1, 0, 0, 1

    def _row(self, flags: int, y: int) -> int:
        w = self.g.out_w
        return (flags >> (y * w)) & ((1 << w) - 1)

    def _rows_any(self, flags: int) -> int:
        return sum(1 << y for y in range(self.g.out_h) if self._row(flags, y))

    def outputs(self, i: dict[str, int]) -> dict[str, int]:
        """Every output with the current state and the inputs ``i`` of this cycle."""
        st, g = self.state, self.g
        grst_go = self.grst_pend or i["grst_req"]
        valid = int(st == S_SEND and self.row_bits != 0 and self.row_ok == 1)
        drained = st == S_SEND and not (self.row_bits or self.rows_left) and i["tx_idle"]
        return {
            "sample_ack": int(st == S_IDLE and not grst_go and bool(i["sample_pend"])),
            "ctrl_busy": int(st != S_IDLE or bool(grst_go)),
            "ro_busy": int(st in (S_SAMPLE, S_SETTLE, S_PICK, S_LOAD, S_SEND, S_RESET)
                           or bool(i["sample_pend"])),
            "grst_busy": int(bool(self.grst_pend) or st == S_GRESET),
            "ctrl_phase": PHASE.get(st, 0), "readout_done": self.done,
            "spike_taken": int(valid and i["ev_ready"]), "ana_sample": self.sample,
            "ana_ch_sel": self.ch, "ev_valid": valid,
            "ev_addr": g.addr_pack(self.ch, self.cur_y, self.x_q),
            "rs_start_ch": int(drained and self.flags_any),
            "rs_start_all": int(st == S_IDLE and bool(grst_go)),
            "rs_ch": self.ch, "rs_mask": self.flags_lat}

    def step(self, i: dict[str, int]) -> None:
        """One rising edge: every register from the state before it (nonblocking)."""
        o, g, st = self.outputs(i), self.g, self.state
        last = self.ch == g.n_ch - 1
        grst_go = self.grst_pend or i["grst_req"]
        drained = st == S_SEND and not (self.row_bits or self.rows_left) and i["tx_idle"]
        load = st == S_LOAD or (
            o["spike_taken"] and self.last_q and self.rows_left)
        row_before = self.row_bits
        if st == S_SETTLE and self.settle == 0:          # the flag latch
            f = i["ana_flags"]
            self.flags_lat, self.flags_any = f, int(f != 0)
            self.rows_left = self._rows_any(f)
        elif st == S_PICK and self.flags_any:
            self.nrow = lsb(self.rows_left)
        elif load:
            self.row_bits, self.cur_y = self._row(self.flags_lat, self.nrow), self.nrow
            self.rows_left &= ~(1 << self.nrow)
            self.nrow = lsb(self.rows_left) if self.rows_left else 0
        elif o["spike_taken"]:
            self.row_bits = self.rest_q
        if load or o["spike_taken"]:
            self.row_ok = 0
        elif not self.row_ok:                            # the column registers follow
            rb = row_before
            self.row_ok, self.x_q = 1, lsb(rb) if rb else 0
            self.rest_q = rb & (rb - 1)
            self.last_q = int(self.rest_q == 0)
        self.done = 0
        if o["rs_start_all"]:
            self.grst_pend = 0
        elif i["grst_req"]:
            self.grst_pend = 1
        next_ch = False
        if st == S_IDLE:
            if grst_go:
                self.state = S_GRESET
            elif i["sample_pend"]:
                self.sample, self.state = 1, S_SAMPLE
        elif st == S_GRESET:
            if i["rs_done"]:
                self.state = S_IDLE
        elif st == S_SAMPLE:
            self.sample, self.ch, self.settle, self.state = 0, 0, g.flag_settle - 1, S_SETTLE
        elif st == S_SETTLE:
            if self.settle == 0:
                self.state = S_PICK
            else:
                self.settle -= 1
        elif st == S_LOAD:
            self.state = S_SEND
        elif st == S_PICK:
            if self.flags_any:
                self.state = S_LOAD
            elif i["tx_idle"]:
                if last:
                    self.done, self.state = 1, S_IDLE
                else:
                    next_ch = True
        elif st == S_SEND and drained:
            self.state = S_RESET
        elif st == S_RESET and i["rs_done"]:
            if last:
                self.done, self.state = 1, S_IDLE
            else:
                next_ch = True
        if next_ch:
            self.ch, self.settle, self.state = self.ch + 1, g.flag_settle - 1, S_SETTLE


class Receiver:
    """Cycle model of the AER receiver behind the transmitter: ``aer_ack`` follows each edge
    of ``aer_req`` L cycles after the edge at which it changed (L drawn per edge)."""

    def __init__(self, rnd, lat: tuple[int, int]) -> None:
        self.rnd, self.lat = rnd, lat
        self.ack, self.req, self.wait = 0, 0, 0

    def after_edge(self, req: int) -> None:
        if req != self.req:
            self.req, self.wait = req, self.rnd.randint(*self.lat)
        elif self.wait:
            self.wait -= 1
        if not self.wait:
            self.ack = self.req


class ResetSeq:
    """Cycle model of p2m_reset_seq's handshake: a request taken at edge E raises ``done``
    in the cycle that ends at E + 2 + width (setup, width pulse cycles, hold)."""

    def __init__(self) -> None:
        self.active, self.rem = False, 0

    @property
    def done(self) -> int:
        return int(self.active and self.rem == 0)

    def step(self, start: bool, width: int) -> None:
        if self.active:
            if self.rem == 0:
                self.active = False
            else:
                self.rem -= 1
        elif start:
            self.active, self.rem = True, width + 1


def draw_flags(rnd, geo: Geometry) -> list[int]:
    """One window's flags per channel, each channel of a random density class."""
    out = []
    for _ in range(geo.n_ch):
        cls = rnd.random()
        if cls < 0.35:
            out.append(0)
        elif cls < 0.6:
            f = 0
            for _ in range(rnd.randint(1, 3)):
                f |= 1 << rnd.randrange(geo.n_neur)
            out.append(f)
        elif cls < 0.9:
            d = rnd.choice((0.05, 0.2, 0.5))
            out.append(sum(1 << b for b in range(geo.n_neur) if rnd.random() < d))
        else:
            out.append((1 << geo.n_neur) - 1)
    return out


class Bench:
    """The block with its neighbours' models, the cycle model and the scoreboard."""

    def __init__(self, dut, rnd, lat=(0, 0), width=(4, 4), p_win=0.0, p_grst=0.0) -> None:
        self.dut, self.rnd = dut, rnd
        self.geo = Geometry(**{a: param(dut, n, d) for n, a, d in (
            ("N_CH", "n_ch", 32), ("OUT_H", "out_h", 16), ("OUT_W", "out_w", 16),
            ("FLAG_SETTLE", "flag_settle", 2))})
        self.model, self.cyc = CtrlModel(self.geo), Cycle(dut, at_fall=True)
        self.tx, self.rx, self.rs = TxModel(), Receiver(rnd, lat), ResetSeq()
        self.width, self.p_win, self.p_grst = width, p_win, p_grst
        self.pend, self.flags = 0, [0] * self.geo.n_ch
        self.sel_edge, self.prev_sel, self.prev_sample = -99, 0, 0
        self.obs: list[tuple] = []
        self.windows = self.spikes = self.grsts = 0
        self.sample_fall = self.done_edge = -1
        self.full = (1 << self.geo.n_neur) - 1

    def expected(self) -> list[tuple]:
        exp = []
        for c, f in enumerate(self.flags):
            for b in range(self.geo.n_neur):
                if f >> b & 1:
                    exp.append(("ev", self.geo.addr_pack(c, b // self.geo.out_w, b % self.geo.out_w)))
            if f:
                exp.append(("rst", c, f))
        return exp

    async def run(self, n_cycles: int, windows: int | None = None) -> None:
        dut, cyc, m, g = self.dut, self.cyc, self.model, self.geo
        w = self.rnd.randint(*self.width)
        for _ in range(n_cycles):
            await cyc.fall()
            sel, smp = int(dut.ana_ch_sel.value), int(dut.ana_sample.value)
            if smp and not self.prev_sample:         # a sample: the next window's flags
                self.flags = draw_flags(self.rnd, g)
            if sel != self.prev_sel or (self.prev_sample and not smp):
                self.sel_edge = cyc.n                # ana_ch_sel written at this edge
            self.prev_sel, self.prev_sample = sel, smp
            right = cyc.n == self.sel_edge + g.flag_settle - 1
            if not self.pend and self.rnd.random() < self.p_win:
                self.pend = 1
            t = self.tx.outputs()
            i = {"sample_pend": self.pend, "grst_req": int(self.rnd.random() < self.p_grst),
                 "ana_flags": self.flags[sel] if right else self.full & ~self.flags[sel],
                 "ev_ready": t["ev_ready"], "tx_idle": t["tx_idle"], "rs_done": self.rs.done}
            for k, v in i.items():
                getattr(dut, k).value = v
            await cyc.settle()
            got, exp = cyc.read(*OUTS), m.outputs(i)
            if got != exp:
                diff = {k: (got[k], exp[k]) for k in got if got[k] != exp[k]}
                check(False, f"cycle {cyc.n}: outputs differ from the model (dut, model): {diff}")
            self._score(got)
            await cyc.rise()
            m.step(i)
            self.tx.step(got["ev_valid"], got["ev_addr"], self.rx.ack)
            self.rx.after_edge(self.tx.req)
            start = got["rs_start_ch"] or got["rs_start_all"]
            if start and not self.rs.active:
                w = self.rnd.randint(*self.width)
            self.rs.step(bool(start), w)
            if got["sample_ack"]:
                self.pend = 0
            if got["ana_sample"]:
                self.sample_fall = cyc.n             # the edge that ends the strobe
            if windows is not None and self.windows >= windows:
                return
        check(windows is None, f"{n_cycles} cycles: only {self.windows} of {windows} readouts")

    def _score(self, got: dict[str, int]) -> None:
        if got["readout_done"]:                    # the readout ended at the last edge
            self.done_edge = self.cyc.n
            exp = self.expected()
            if self.obs != exp:
                k = first_diff(self.obs, exp)
                check(False, f"readout {self.windows}: {len(self.obs)} items sent, expected "
                             f"{len(exp)}; first difference at item {k}: "
                             f"{self.obs[k:k + 2]} vs {exp[k:k + 2]}")
            self.windows += 1
            self.spikes += sum(1 for o in exp if o[0] == "ev")
            self.obs = []
        if got["spike_taken"]:
            self.obs.append(("ev", got["ev_addr"]))
        if got["rs_start_ch"]:
            self.obs.append(("rst", got["rs_ch"], got["rs_mask"]))
        if got["rs_start_all"]:
            self.grsts += 1
            check(not self.obs, "global reset requested in the middle of a readout")


async def _bench(dut, name: str, **kw) -> Bench:
    rnd = rng(name)
    for n in ("sample_pend", "grst_req", "ana_flags", "ev_ready", "tx_idle", "rs_done"):
        getattr(dut, n).value = 0
    await reset(dut)
    b = Bench(dut, rnd, **kw)
    await b.run(200)                       # the power-up global reset
    check(b.grsts == 1 and not int(dut.grst_busy.value),
          f"power-up: {b.grsts} global reset requests, grst_busy {int(dut.grst_busy.value)}")
    return b


@cocotb.test()
async def readout_cycle_count(dut) -> None:
    """A readout takes N_CH(FLAG_SETTLE + 1) + S(2L + 6) + K(W + 6) cycles, exactly."""
    clock(dut)
    for lat, width in ((0, 1), (2, 4), (1, 16)):
        b = await _bench(dut, f"count{lat}", lat=(lat, lat), width=(width, width))
        g = b.geo
        for _ in range(3 if g.n_ch * g.n_neur <= 2048 else 1):   # the chip's size: one
            b.pend = 1
            n0 = b.windows
            await b.run(400_000, windows=n0 + 1)
            s = sum(bin(f).count("1") for f in b.flags)
            k = sum(1 for f in b.flags if f)
            n = b.done_edge - b.sample_fall
            exp = g.n_ch * (g.flag_settle + 1) + s * (2 * lat + 6) + k * (width + 6)
            check(n == exp, f"L={lat} W={width}: readout of {s} spikes in {k} channels took "
                            f"{n} cycles, REGISTERS.md says {exp}")
        dut._log.info(f"L={lat} W={width}: {b.windows} readouts cycle-exact")


@cocotb.test()
async def readout_random(dut) -> None:
    """Random flags, receiver latencies 0-4, widths 1-6, window ends and GRST at random."""
    clock(dut)
    b = await _bench(dut, "random", lat=(0, 4), width=(1, 6), p_win=0.002, p_grst=0.0005)
    g = b.geo
    if g.n_ch * g.n_neur > 2048:     # the chip's size: one readout (up to ~30k cycles)
        await b.run(400_000, windows=1)
    else:
        await b.run(25_000)
        check(b.windows >= 3, f"only {b.windows} readouts in 25,000 cycles")
    dut._log.info(f"{b.windows} readouts, {b.spikes} spikes, {b.grsts} global resets: "
                  f"model-exact every cycle, every window's stream exact")


SWEEP = [
    {"N_CH": 1, "OUT_H": 1, "OUT_W": 1, "FLAG_SETTLE": 1},
    {"N_CH": 3, "OUT_H": 2, "OUT_W": 5, "FLAG_SETTLE": 1},
    {"N_CH": 4, "OUT_H": 5, "OUT_W": 3, "FLAG_SETTLE": 3},
    {"N_CH": 32, "OUT_H": 16, "OUT_W": 16, "FLAG_SETTLE": 2},
]


@pytest.mark.sim
@pytest.mark.parametrize("parameters", SWEEP,
                         ids=lambda p: "ch{N_CH}-{OUT_H}x{OUT_W}-fs{FLAG_SETTLE}".format(**p))
def test_block_readout_ctrl(parameters: dict[str, int]) -> None:
    """The cocotb tests above with p2m_readout_ctrl as the toplevel at each geometry."""
    run_block("test_block_readout_ctrl", parameters)
