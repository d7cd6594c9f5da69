"""Block-level tests of `p2m_aer_tx` (toplevel: the block), cocotb test and pytest entry.

Contract: rtl/REGISTERS.md "Ports" (aer_req/aer_ack/aer_addr, bundled data) and "Timing"
(2L + 6 cycles per event); the block's header (rtl/p2m_aer_tx.v) for the valid/ready side.

* ``TxModel`` is a cycle model of the block (the p2m_sync2 on ``aer_ack``, the three-state
  FSM). Every cycle the tests compare every output (``aer_req``, ``aer_addr``, ``ev_ready``,
  ``tx_idle``, ``ev_done``, ``busy``) with it, so a one-cycle difference anywhere fails.
* Beside the model, protocol checks of the contract itself: ``aer_req`` rises only with
  ``aer_ack`` low, the address was loaded at least one edge before ``aer_req`` rose and is
  stable while it is high, ``aer_req`` falls only after ``aer_ack`` rose; the addresses
  received equal the addresses offered, in order (nothing lost, duplicated or invented).
* ``aer_tx_exact_cycles``: a receiver that answers each edge of ``aer_req`` L cycles after
  the edge at which it changed (L = 0, 1, 3): back-to-back events take exactly 2L + 6
  cycles, the first ``aer_req`` rises one edge after the address was taken.
* ``aer_tx_random``: seeded random upstream gaps and addresses, and a receiver whose
  acknowledge and release delays are random picosecond times (0 to 300 ns, never on a
  rising clk edge: ``aer_ack`` is asynchronous), including releases long after ``aer_req``
  fell.
* ``aer_tx_reset_anywhere``: ``rst_n`` asserted at random points of the handshake clears
  the outputs at once; traffic after the release is correct.

pytest: ``test_block_aer_tx`` runs the module through the runner at each address width of
``SWEEP`` (``python -m tb.run test_block_aer_tx --param AW=4`` replays one).
"""

from __future__ import annotations

import cocotb
import pytest
from cocotb.triggers import FallingEdge, RisingEdge, Timer

from tb.blocktb import CLK_NS, Cycle, check, clock, first_diff, param, reset, rng, run_block
from tb.common import now_ps

PERIOD_PS = CLK_NS * 1000

T_IDLE, T_ARM, T_WAIT = 0, 1, 2
OUTS = ("aer_req", "aer_addr", "ev_ready", "tx_idle", "ev_done", "busy")


class TxModel:
    """Cycle model of p2m_aer_tx (reset state; ``outputs()`` before an edge, ``step()`` at it)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.state, self.req, self.addr, self.meta, self.ack_s = T_IDLE, 0, 0, 0, 0

    def outputs(self) -> dict[str, int]:
        idle = int(self.state == T_IDLE and not self.ack_s)
        return {"aer_req": self.req, "aer_addr": self.addr,
                "ev_ready": int(self.state == T_IDLE), "tx_idle": idle,
                "ev_done": int(self.state == T_WAIT and self.ack_s == 1), "busy": 1 - idle}

    def step(self, valid: int, addr: int, ack: int) -> bool:
        """One rising edge with these inputs; True when an address was taken."""
        taken = False
        if self.state == T_IDLE and valid:
            self.addr, self.state, taken = addr, T_ARM, True
        elif self.state == T_ARM and not self.ack_s:
            self.req, self.state = 1, T_WAIT
        elif self.state == T_WAIT and self.ack_s:
            self.req, self.state = 0, T_IDLE
        self.meta, self.ack_s = ack, self.meta
        return taken


class Receiver:
    """The AER receiver: answers each edge of ``aer_req`` with ``aer_ack`` after a delay.

    ``mode`` ``("cycles", L)``: L rising clk edges after the edge at which aer_req changed,
    then 1 ns (off the edge). ``("random", max_ps)``: a random delay of 0..max_ps ps (one in
    five up to 2 ns), moved at least 100 ps away from the rising edges. Records the address
    at each rise of aer_req; ``acked`` says aer_ack rose since aer_req last rose.
    """

    def __init__(self, dut, rnd, mode: tuple[str, int]) -> None:
        self.dut, self.rnd, self.mode = dut, rnd, mode
        self.got: list[int] = []
        self.acked = False
        self.task = cocotb.start_soon(self.run())

    async def _delay(self) -> None:
        kind, v = self.mode
        if kind == "cycles":
            for _ in range(v):
                await RisingEdge(self.dut.clk)
            await Timer(1, unit="ns")
            return
        d = self.rnd.randint(0, v) if self.rnd.random() < 0.8 else self.rnd.randint(0, 2000)
        ph = (now_ps() + d) % PERIOD_PS
        if ph < 100:                      # never on a rising edge
            d += 200
        elif ph > PERIOD_PS - 100:
            d -= 200
        if d > 0:
            await Timer(d, unit="ps")

    async def run(self) -> None:
        dut = self.dut
        while True:
            await RisingEdge(dut.aer_req)
            self.got.append(int(dut.aer_addr.value))
            self.acked = False
            await self._delay()
            if int(dut.aer_req.value) == 1:
                dut.aer_ack.value = 1
                self.acked = True
                await FallingEdge(dut.aer_req)
                await self._delay()
            dut.aer_ack.value = 0

    def stop(self) -> None:
        self.task.cancel()
        self.dut.aer_ack.value = 0


class Bench:
    """Upstream driver + model comparison + protocol checks, one cycle at a time."""

    def __init__(self, dut, rnd, rx: Receiver) -> None:
        self.dut, self.rnd, self.rx = dut, rnd, rx
        self.aw = param(dut, "AW", 13)
        self.model, self.cyc = TxModel(), Cycle(dut)
        self.offered: list[int] = []
        self.rises: list[int] = []        # cycle numbers at which aer_req rose
        self.takes: list[int] = []        # cycle numbers of the edges that took an address
        self.valid, self.addr = 0, 0
        self.prev = self.model.outputs()
        self.addr_set_cycle = 0
        self.ack_at_edge = 0

    def _next_offer(self, gap_p: float) -> None:
        if self.rnd.random() < gap_p:
            self.valid = 0
        else:
            self.valid, self.addr = 1, self.rnd.getrandbits(self.aw)

    async def run(self, n_cycles: int, gap_p: float = 0.0) -> None:
        dut, cyc, m = self.dut, self.cyc, self.model
        for _ in range(n_cycles):
            await cyc.fall()
            if not self.valid:           # valid/ready: an offer is held until it is taken
                self._next_offer(gap_p)
            dut.ev_valid.value = self.valid
            dut.ev_addr.value = self.addr
            await cyc.settle()
            got, exp = cyc.read(*OUTS), m.outputs()
            check(got == exp, f"cycle {cyc.n}: outputs {got} != model {exp}")
            self._protocol(got)
            self.prev = got
            await cyc.rise()
            ack = self.ack_at_edge = int(dut.aer_ack.value)  # never changes at a rising edge
            if m.step(self.valid, self.addr, ack):
                self.offered.append(self.addr)
                self.takes.append(cyc.n)
                self.valid = 0

    def _protocol(self, got: dict[str, int]) -> None:
        """The contract's rules, independent of the model (values after the last edge)."""
        p, n = self.prev, self.cyc.n
        if got["aer_addr"] != p["aer_addr"]:
            check(not got["aer_req"] and not p["aer_req"],
                  f"cycle {n}: aer_addr changed while aer_req was high")
            self.addr_set_cycle = n
        if got["aer_req"] and not p["aer_req"]:
            self.rises.append(n)
            check(n - self.addr_set_cycle >= 1,
                  f"cycle {n}: aer_req rose at the edge that loaded aer_addr (bundled data)")
            check(self.ack_at_edge == 0, f"cycle {n}: aer_req rose while aer_ack = 1")
        if p["aer_req"] and not got["aer_req"]:
            check(self.rx.acked, f"cycle {n}: aer_req fell before aer_ack rose")

    def check_stream(self) -> None:
        got, sent = self.rx.got, self.offered
        check(got == sent[:len(got)] and len(sent) - len(got) <= 1,
              f"received {len(got)} addresses != offered {len(sent)} (first difference at "
              f"{first_diff(got, sent)})")


async def _setup(dut, name: str, mode: tuple[str, int]) -> Bench:
    rnd = rng(name)
    dut.ev_valid.value = 0
    dut.ev_addr.value = 0
    dut.aer_ack.value = 0
    await reset(dut)
    return Bench(dut, rnd, Receiver(dut, rnd, mode))


@cocotb.test()
async def aer_tx_exact_cycles(dut) -> None:
    """Back-to-back events take exactly 2L + 6 cycles for a receiver latency of L cycles."""
    clock(dut)
    for lat in (0, 1, 3):
        b = await _setup(dut, f"exact{lat}", ("cycles", lat))
        await b.run(40 + 12 * (2 * lat + 6))
        d = [y - x for x, y in zip(b.rises, b.rises[1:], strict=False)]
        check(len(d) >= 10 and set(d) == {2 * lat + 6},
              f"L = {lat}: cycles between aer_req rises {sorted(set(d))}, expected {2 * lat + 6}")
        check(b.rises[0] == b.takes[0] + 1,
              f"L = {lat}: first aer_req rose at cycle {b.rises[0]}, address taken at "
              f"{b.takes[0]} (expected the next edge)")
        b.check_stream()
        b.rx.stop()
        dut._log.info(f"L = {lat}: {len(d) + 1} events, {2 * lat + 6} cycles each")


@cocotb.test()
async def aer_tx_random(dut) -> None:
    """Random upstream gaps and addresses, random asynchronous acknowledge delays."""
    clock(dut)
    for k, (max_ps, gap) in enumerate(((0, 0.0), (25_000, 0.3), (300_000, 0.6), (3_000, 0.9))):
        b = await _setup(dut, f"random{k}", ("random", max_ps))
        await b.run(3000, gap)
        b.check_stream()
        check(len(b.rx.got) > 20, f"profile {k}: only {len(b.rx.got)} events in 3000 cycles")
        b.rx.stop()
        dut._log.info(f"profile {k} (ack delays <= {max_ps} ps, gaps {gap}): "
                      f"{len(b.rx.got)} events, model-exact")


@cocotb.test()
async def aer_tx_reset_anywhere(dut) -> None:
    """rst_n at random points clears aer_req/aer_addr at once; traffic afterwards is exact."""
    clock(dut)
    rnd = rng("reset")
    b = await _setup(dut, "reset", ("random", 40_000))
    for k in range(12):
        await b.run(rnd.randint(3, 60), 0.2)
        await Timer(rnd.randint(1, 9) * 1000 + 300, unit="ps")   # asynchronous assertion
        dut.rst_n.value = 0
        await Timer(1, unit="ps")
        check(int(dut.aer_req.value) == 0 and int(dut.aer_addr.value) == 0,
              f"reset {k}: aer_req/aer_addr not 0 right after rst_n fell")
        b.rx.stop()
        await Timer(30, unit="ns")
        await b.cyc.fall()
        dut.rst_n.value = 1
        dut.ev_valid.value = 0     # the edge before the next b.run() cycle: nothing offered
        b.model.reset()
        b.valid, b.prev = 0, b.model.outputs()
        b.rx = Receiver(dut, rnd, ("random", 40_000))
        b.offered.clear()
    await b.run(500, 0.2)
    b.check_stream()


SWEEP = [{"AW": 1}, {"AW": 13}, {"AW": 17}]


@pytest.mark.sim
@pytest.mark.parametrize("parameters", SWEEP, ids=lambda p: f"AW{p['AW']}")
def test_block_aer_tx(parameters: dict[str, int]) -> None:
    """The cocotb tests above with p2m_aer_tx as the toplevel at each address width."""
    run_block("test_block_aer_tx", parameters)
