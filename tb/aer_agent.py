"""AER receiver agent (pyuvm): a 4-phase receiver with seeded random backpressure, and a
protocol monitor that checks every transaction. Both work on an :class:`~tb.buses.AerBus`
(ConfigDB key ``aer_bus``) and the reset of the ``clock_reset`` bus, so they sit on the chip
(``p2m_tb``) or on a block (``p2m_aer_tx``) alike.

Receiver (:class:`AerResponder`): on ``aer_req`` rising it waits an acknowledge delay drawn
from a :class:`Backpressure` profile (in nanoseconds, deliberately not a multiple of the
clock: ``aer_ack`` is asynchronous and the RTL synchronizes it), raises ``aer_ack``, waits
for ``aer_req`` to fall, waits a release delay, lowers ``aer_ack``. Python wakes twice per
event plus once per non-zero delay; the clock never wakes it.

Monitor (:class:`AerMonitor`) checks on every transaction, against the 4-phase rules of the
design ("The RTL boundary"):

1. ``aer_req`` rises only while ``aer_ack`` is low (this also covers "the next req waits
   for ack low");
2. bundled data: ``aer_addr`` settles at least one clk period before ``aer_req`` rises
   (REGISTERS.md "Ports"), and it is stable while ``aer_req`` is high (every change of
   ``aer_addr`` is timed; one later than rise - 1 period and before the fall is a violation);
3. ``aer_req`` falls only after ``aer_ack`` rose (unless ``rst_n`` is low: an asynchronous
   reset may drop it).

Every transaction is published as an :class:`AerEvent` on the analysis port ``ap`` at the
rising edge of ``aer_req``; protocol violations are collected in ``violations`` and raised by
``check()``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import cocotb
from cocotb.triggers import FallingEdge, RisingEdge, Timer
from pyuvm import uvm_analysis_port, uvm_component

from tb import config
from tb.common import now_ps, py_rng, sig_int
from tb.coverage import DB, ack_delay_bins


@dataclass
class AerEvent:
    """One AER transaction: address fields and times (picoseconds)."""

    addr: int
    ch: int
    y: int
    x: int
    t_req: int
    t_fall: int = -1

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.ch, self.y, self.x)


@dataclass
class AckItem:
    """One acknowledge of the receiver: rise and fall times of ``aer_ack`` (ps)."""

    t_rise: int
    t_fall: int = -1


#: Backpressure profiles: list of (probability, (lo_ns, hi_ns)) for the acknowledge delay.
PROFILES: dict[str, list[tuple[float, tuple[int, int]]]] = {
    "none": [(1.0, (0, 0))],
    "light": [(0.7, (0, 0)), (0.3, (1, 20))],
    "random": [(0.35, (0, 0)), (0.35, (1, 9)), (0.2, (10, 99)), (0.09, (100, 999)),
               (0.01, (1000, 5000))],
    "heavy": [(0.2, (0, 0)), (0.35, (10, 99)), (0.42, (100, 999)), (0.03, (1000, 20000))],
}


class Backpressure:
    """Seeded acknowledge/release delay generator (nanoseconds) for one profile."""

    def __init__(self, rng: random.Random, profile: str = "random") -> None:
        if profile not in PROFILES:
            raise ValueError(f"profile: unknown backpressure profile {profile!r}; "
                             f"known: {', '.join(PROFILES)}")
        self.rng = rng
        self.profile = profile
        self._cum = []
        acc = 0.0
        for p, rng_ns in PROFILES[profile]:
            acc += p
            self._cum.append((acc, rng_ns))

    def ack_delay_ns(self) -> int:
        u = self.rng.random() * self._cum[-1][0]
        for c, (lo, hi) in self._cum:
            if u <= c:
                return lo if lo == hi else self.rng.randint(lo, hi)
        return 0

    def release_delay_ns(self) -> int:
        """Delay from req falling to ack falling: mostly short; the ``heavy`` profile also
        holds ack high for long (5 % of events, 100 ns to 2 us)."""
        if self.profile == "none":
            return 0
        u = self.rng.random()
        if self.profile == "heavy" and u < 0.05:
            return self.rng.randint(100, 2000)
        return 0 if u < 0.5 else self.rng.randint(1, 30)


class AerResponder(uvm_component):
    """The AER receiver: 4-phase acknowledge with random backpressure."""

    def build_phase(self) -> None:
        self.ap = uvm_analysis_port("ap", self)  # AckItem per acknowledged request
        self.bp = Backpressure(py_rng(self.get_full_name()), "random")
        self.enabled = True
        self.cov = DB.group("aer")
        self.cov.point("ack_delay_ns", ack_delay_bins())
        self.n_acks = 0

    def set_profile(self, profile: str) -> None:
        self.bp = Backpressure(self.bp.rng, profile)

    def start_of_simulation_phase(self) -> None:
        self.bus = config.get(self, "aer_bus")

    async def run_phase(self) -> None:
        if config.get(self, "hdl_agents"):
            return  # the HDL agents serve the bus (tb.hdl_agents)
        req, ack = self.bus.req, self.bus.ack
        rise, fall = RisingEdge(req), FallingEdge(req)
        sample = self.cov.points["ack_delay_ns"].sample
        while True:
            if req.value != 1:
                await rise
            d = self.bp.ack_delay_ns()
            if d:
                await Timer(d, unit="ns")
                if req.value != 1:  # dropped by a reset while we waited: no acknowledge
                    continue
            sample(d)
            ack.value = 1
            self.n_acks += 1
            item = AckItem(now_ps())
            await fall
            r = self.bp.release_delay_ns()
            if r:
                await Timer(r, unit="ns")
            ack.value = 0
            item.t_fall = now_ps()
            self.ap.write(item)


class AerMonitor(uvm_component):
    """4-phase protocol checker and transaction publisher (see the module docstring)."""

    MAX_VIOLATIONS = 20

    def build_phase(self) -> None:
        self.ap = uvm_analysis_port("ap", self)
        self.violations: list[str] = []
        self.n_events = 0
        self._addr_changes: list[int] = []
        self._t_addr = -(10**18)  # time of the last aer_addr change
        self._req_high = False
        self._t_rise = 0
        self._cur: AerEvent | None = None

    def start_of_simulation_phase(self) -> None:
        self.bus = config.get(self, "aer_bus")
        self.rst_n = config.get(self, "clock_reset").rst_n
        self.geo = config.get(self, "geometry")
        self.period = config.get(self, "timing").clk_period_ps

    def _violate(self, msg: str) -> None:
        if len(self.violations) < self.MAX_VIOLATIONS:
            self.violations.append(f"t={now_ps() / 1000:.3f} ns: {msg}")
            self.logger.error(f"AER protocol: {msg}")

    async def run_phase(self) -> None:
        if config.get(self, "hdl_agents"):
            return  # the HDL agents serve the bus (tb.hdl_agents)
        cocotb.start_soon(self._watch_addr())
        req, ack, addr_h, rst_n = self.bus.req, self.bus.ack, self.bus.addr, self.rst_n
        rise, fall = RisingEdge(req), FallingEdge(req)
        changes = self._addr_changes
        while True:
            await rise
            t = now_ps()
            a = ack.value
            if a != 0 and sig_int(rst_n) == 1:
                self._violate(f"aer_req rose while aer_ack={a} (must be low)")
            if t - self._t_addr < self.period and sig_int(rst_n) == 1:
                self._violate(f"bundled data: aer_addr changed {(t - self._t_addr) / 1000:.3f} ns "
                              f"before aer_req rose (at least one clk period, "
                              f"{self.period / 1000:.1f} ns, is required)")
            addr = sig_int(addr_h)
            if addr < 0:
                self._violate("aer_addr is X/Z when aer_req rises")
                addr = 0
            ch, y, x = self.geo.addr_unpack(addr)
            ev = AerEvent(addr, ch, y, x, t)
            self._cur, self._req_high, self._t_rise = ev, True, t
            changes.clear()
            self.n_events += 1
            self.ap.write(ev)
            await fall
            tf = now_ps()
            ev.t_fall = tf
            self._req_high = False
            if ack.value != 1 or changes:
                if sig_int(rst_n) != 1:
                    continue  # an asynchronous reset dropped aer_req: allowed
                if ack.value != 1:
                    self._violate(f"aer_req fell before aer_ack rose (event {ev.key})")
                bad = [tc for tc in changes if t < tc < tf]
                if bad:
                    self._violate(f"aer_addr changed at {bad[0] / 1000:.3f} ns while aer_req "
                                  f"was high (event {ev.key}, req {t / 1000:.3f}-{tf / 1000:.3f} ns)")

    async def _watch_addr(self) -> None:
        sig = self.bus.addr
        while True:
            await sig.value_change
            self._t_addr = now_ps()
            if self._req_high:
                self._addr_changes.append(self._t_addr)

    def check(self) -> None:
        """Raise AssertionError listing the protocol violations (if any)."""
        if self.violations:
            raise AssertionError("AER 4-phase protocol violations:\n  "
                                 + "\n  ".join(self.violations))
