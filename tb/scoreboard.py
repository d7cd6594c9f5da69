"""Scoreboards over analysis FIFOs: readout (AER spikes + per-channel reset pulses), global
resets, and programming pulse sequences.

Readout (:class:`ReadoutScoreboard`). Inputs: the windows latched by the analog agent
(flags at each ``ana_sample``), the AER transactions from the protocol monitor, the
``ana_rst`` pulses, and the ``rst_n`` assertions. For window k (from its sample to the next
sample or ``rst_n`` assertion) the expected stream is, for channel 0..N_CH-1 in order, every
set flag as an AER event in row-major order (y, then x), then one reset pulse of that channel
with ``ana_rst_mask`` = the flags and width RST_WIDTH (none for a channel without spikes).
The observed stream (events by the rise of ``aer_req``, reset pulses by their rise) must be
equal, element for element, which gives:

- no lost spike and no duplicated spike (multiset equality, reported as such);
- the fairness bound (REGISTERS.md "Timing"): a spike waits at most for the spikes of its
  window that precede it in (channel, y, x) order, i.e. its position in the observed stream
  is <= its rank; checked and reported separately from the order;
- every spike of window k leaves before the sample of window k+1;
- reset masks equal the spikes, pulse widths exact;
- a channel's reset pulse rises only after ``aer_ack`` of its last spike fell (the neuron is
  reset only after its spike was acknowledged and the handshake returned to zero).

A window cut by ``rst_n`` must have sent a prefix of its expected stream (nothing duplicated
or invented); nothing may be sent between an ``rst_n`` assertion and the next sample.

Global resets (``ana_rst_all``) are compared with the expectations the test registers
(``expect_global(width)``, one per accepted CTRL.GRST). Programming pulses
(:class:`ProgScoreboard`): for each command the test registers, one reset pulse
(dir = 1, PROG_RST_WIDTH cycles) then exactly CODE set pulses (dir = 0, PROG_SET_WIDTH
cycles), all on the same target/index, PROG_GAP idle cycles between consecutive set pulses
and max(PROG_GAP, 2) between the reset pulse and the first set pulse.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np
from pyuvm import uvm_component, uvm_tlm_analysis_fifo

from tb import config
from tb.common import flags_to_int
from tb.config import Geometry
from tb.coverage import DB


def drain(fifo) -> list:
    """Every item waiting in a pyuvm analysis FIFO (non-blocking)."""
    out = []
    while True:
        ok, item = fifo.try_get()
        if not ok:
            return out
        out.append(item)


def expected_stream(flags: np.ndarray, out_w: int = 16) -> list[tuple]:
    """Expected readout of one window (flags (N_CH, N_NEUR), rows of ``out_w``):
    ("ev", ch, y, x) and ("rst", ch, mask) entries."""
    out: list[tuple] = []
    for ch in range(flags.shape[0]):
        idx = np.flatnonzero(flags[ch])
        for b in idx:
            out.append(("ev", ch, int(b) // out_w, int(b) % out_w))
        if idx.size:
            out.append(("rst", ch, flags_to_int(flags[ch])))
    return out


def _fmt(e: tuple | None, geo: Geometry | None = None) -> str:
    if e is None:
        return "nothing"
    if e[0] == "ev":
        return f"spike (ch {e[1]}, y {e[2]}, x {e[3]}) addr 0x{(geo or Geometry()).addr_pack(*e[1:]):04x}"
    return f"reset pulse ch {e[1]} mask 0x{e[2]:x}"


@dataclass
class ReadoutStats:
    windows: int = 0
    spikes: int = 0
    channel_resets: int = 0
    aborted_windows: int = 0
    global_resets: int = 0
    max_burst: int = 0


class ReadoutScoreboard(uvm_component):
    """See the module docstring. ``check(final)`` raises AssertionError on the first problem."""

    def build_phase(self) -> None:
        self.win_fifo = uvm_tlm_analysis_fifo("win_fifo", self)
        self.aer_fifo = uvm_tlm_analysis_fifo("aer_fifo", self)
        self.rst_fifo = uvm_tlm_analysis_fifo("rst_fifo", self)
        self.rstn_fifo = uvm_tlm_analysis_fifo("rstn_fifo", self)
        self.ack_fifo = uvm_tlm_analysis_fifo("ack_fifo", self)
        self.geo = config.get(self, "geometry")
        self.acks: list = []
        self.windows: list = []
        self.events: list = []
        self.pulses: list = []
        self.rstns: list[int] = []
        self.expected_globals: list[int] = []
        self.stats = ReadoutStats()
        self._checked_windows = 0
        self.cov = DB.group("readout")
        self.cov.point("reset_during_readout", [("window completed", 0), ("cut by rst_n", 1)])

    def expect_global(self, width: int) -> None:
        """Register one expected global reset pulse of ``width`` cycles (accepted CTRL.GRST)."""
        self.expected_globals.append(int(width))

    def collect(self) -> None:
        self.windows += drain(self.win_fifo)
        self.events += drain(self.aer_fifo)
        self.pulses += drain(self.rst_fifo)
        self.rstns += [r.t for r in drain(self.rstn_fifo)]
        self.acks += drain(self.ack_fifo)

    def check(self, final: bool = True) -> ReadoutStats:
        """Compare everything seen so far. With ``final`` the last window must be complete
        (the test waited for the readout to finish); otherwise it is left for later."""
        self.collect()
        obs = sorted([(e.t_req, 0, ("ev", e.ch, e.y, e.x), e) for e in self.events]
                     + [(p.t_rise, 1, ("rst", p.ch, p.mask), p) for p in self.pulses
                        if not p.all], key=lambda t: (t[0], t[1]))
        times = [o[0] for o in obs]
        self.acks_sorted = sorted(self.acks, key=lambda a: a.t_rise)
        self._ack_rises = [a.t_rise for a in self.acks_sorted]
        wins = sorted(self.windows, key=lambda w: w.t_sample)
        rstns = sorted(self.rstns)
        st = ReadoutStats(global_resets=len([p for p in self.pulses if p.all]))

        # Nothing may be sent outside a window (before the first sample, after an rst_n).
        first = wins[0].t_sample if wins else None
        for t, _, e, _ in obs:
            if first is None or t < first:
                raise AssertionError(f"{_fmt(e)} at {t / 1000:.3f} ns before any ana_sample")
        for k, w in enumerate(wins):
            t0 = w.t_sample
            t_next = wins[k + 1].t_sample if k + 1 < len(wins) else None
            cut = next((r for r in rstns if t0 <= r and (t_next is None or r < t_next)), None)
            t_end = cut if cut is not None else t_next
            if t_end is None and not final:
                break
            lo = bisect.bisect_left(times, t0)
            hi = bisect.bisect_left(times, t_end) if t_end is not None else len(times)
            got = obs[lo:hi]
            exp = expected_stream(w.flags, self.geo.out_w)
            self._compare(w, exp, got, cut)
            # after an rst_n: nothing until the next sample
            if cut is not None:
                hi2 = bisect.bisect_left(times, t_next) if t_next is not None else len(times)
                late = obs[bisect.bisect_left(times, cut):hi2]
                late = [o for o in late if o[0] > cut]
                if late:
                    raise AssertionError(f"{_fmt(late[0][2])} at {late[0][0] / 1000:.3f} ns, after "
                                         f"rst_n at {cut / 1000:.3f} ns and before the next sample")
                st.aborted_windows += 1
            self.cov.sample("reset_during_readout", int(cut is not None))
            st.windows += 1
            st.spikes += sum(1 for e in exp if e[0] == "ev")
            st.channel_resets += sum(1 for e in exp if e[0] == "rst")
            if exp:
                st.max_burst = max(st.max_burst, int(w.flags.sum(axis=1).max()))
        self._check_globals()
        self.stats = st
        return st

    def _compare(self, w, exp: list[tuple], got: list[tuple], cut: int | None) -> None:
        where = f"window {w.index} (ana_sample at {w.t_sample / 1000:.3f} ns)"
        ge = [g[2] for g in got]
        exp_ev = [e for e in exp if e[0] == "ev"]
        got_ev = [g for g in ge if g[0] == "ev"]
        # duplicates and inventions first: clearest message
        seen: set = set()
        for g in got_ev:
            if g in seen:
                raise AssertionError(f"{where}: duplicated {_fmt(g)}")
            seen.add(g)
        extra = seen - set(exp_ev)
        if extra:
            raise AssertionError(f"{where}: {_fmt(sorted(extra)[0])} was sent but not latched "
                                 f"({len(extra)} such)")
        if cut is None and len(got_ev) < len(exp_ev):
            missing = [e for e in exp_ev if e not in seen]
            raise AssertionError(f"{where}: {len(missing)} of {len(exp_ev)} spikes lost, first "
                                 f"{_fmt(missing[0])} (every spike must leave before the next "
                                 f"sample)")
        # fairness bound: observed position <= rank in (channel, y, x) order
        rank = {e: i for i, e in enumerate(exp_ev)}
        for pos, g in enumerate(got_ev):
            if pos > rank[g]:
                raise AssertionError(f"{where}: fairness bound violated: {_fmt(g)} left as spike "
                                     f"#{pos} but only {rank[g]} spikes precede it in "
                                     f"(channel, y, x) order")
        # exact stream (order of events and resets, masks)
        n = len(ge) if cut is not None else max(len(ge), len(exp))
        for i in range(n):
            e = exp[i] if i < len(exp) else None
            g = ge[i] if i < len(ge) else None
            if e != g:
                t = got[i][0] if i < len(got) else None
                at = f" at {t / 1000:.3f} ns" if t is not None else ""
                raise AssertionError(f"{where}, entry {i}{at}: expected {_fmt(e)}, got {_fmt(g)}")
        # a neuron is reset only after its spike's handshake returned to zero (ack low again)
        ack_rises = self._ack_rises
        for i, (t, kind, e, _p) in enumerate(got):
            if kind != 1 or i == 0 or got[i - 1][1] != 0 or got[i - 1][2][1] != e[1]:
                continue
            ev = got[i - 1][3]
            j = bisect.bisect_left(ack_rises, ev.t_req)
            if j < len(ack_rises) and self.acks_sorted[j].t_fall >= t:
                raise AssertionError(f"{where}: reset pulse of ch {e[1]} rose at {t / 1000:.3f} ns "
                                     f"before aer_ack of its last spike fell "
                                     f"({self.acks_sorted[j].t_fall / 1000:.3f} ns)")
        for t, kind, e, p in got:
            if kind == 1 and not p.cut and p.width != w.rst_width:
                raise AssertionError(f"{where}: reset pulse of ch {e[1]} at {t / 1000:.3f} ns is "
                                     f"{p.width} cycles wide, RST_WIDTH = {w.rst_width}")
            if kind == 1 and p.ch >= self.geo.n_ch:
                raise AssertionError(f"{where}: ana_rst_ch = {p.ch} out of range")

    def _check_globals(self) -> None:
        glob = [p for p in self.pulses if p.all]
        if len(glob) != len(self.expected_globals):
            raise AssertionError(f"{len(glob)} global reset pulse(s) seen, "
                                 f"{len(self.expected_globals)} expected (accepted CTRL.GRST); "
                                 f"times: {[round(p.t_rise / 1000, 3) for p in glob][:10]} ns")
        for p, wexp in zip(glob, self.expected_globals, strict=True):
            if not p.cut and p.width != wexp:
                raise AssertionError(f"global reset at {p.t_rise / 1000:.3f} ns: {p.width} cycles "
                                     f"wide, RST_WIDTH = {wexp}")


@dataclass
class ProgCommand:
    """One expected PROG_CMD.START: target, index, code and the widths/gap in cycles."""

    target: int
    index: int
    code: int
    rst_width: int
    set_width: int
    gap: int
    cut_ps: int | None = None  # rst_n asserted at this time: a prefix of the pulses is enough


class ProgScoreboard(uvm_component):
    """Programming pulse sequences against the commands the test registered."""

    def build_phase(self) -> None:
        self.prog_fifo = uvm_tlm_analysis_fifo("prog_fifo", self)
        self.expected: list[ProgCommand] = []
        self.pulses: list = []
        self.commands_checked = 0
        self.pulses_checked = 0
        self.period = config.get(self, "timing").clk_period_ps
        cov = DB.group("programming")
        cov.point("target", [("weight", 0), ("threshold top", 1), ("threshold bottom", 2)])
        cov.point("code", [("0", 0), ("1", 1), ("2-14", (2, 14)), ("15 (4-bit max)", 15),
                           ("16-62", (16, 62)), ("63 (6-bit max)", 63), ("64-254", (64, 254)),
                           ("255", 255)])
        cov.cross("target x code", "target", "code")
        cov.point("set_width", [("1", 1), ("2-7", (2, 7)), (">= 8", (8, 65535))])
        self.cov = cov

    def expect(self, cmd: ProgCommand) -> None:
        self.expected.append(cmd)
        self.cov.sample("target", cmd.target)
        self.cov.sample("code", cmd.code)
        self.cov.crosses["target x code"].sample(cmd.target, cmd.code)
        self.cov.sample("set_width", cmd.set_width)

    def cut(self, t_ps: int) -> None:
        """``rst_n`` was asserted at ``t_ps``: the command in flight may stop early."""
        if self.expected and self.expected[-1].cut_ps is None:
            self.expected[-1].cut_ps = t_ps

    def check(self) -> int:
        """Raise AssertionError at the first wrong pulse; returns the commands checked."""
        self.pulses += drain(self.prog_fifo)
        i = 0
        for n, cmd in enumerate(self.expected):
            seq = self.pulses[i:i + 1 + cmd.code]
            if cmd.cut_ps is not None:
                seq = [p for p in seq if p.t_rise < cmd.cut_ps]
                if seq and seq[-1].cut:
                    seq[-1] = None  # the pulse cut by rst_n: not checked, but consumed
                seq_checked = [p for p in seq if p is not None]
                self._check_seq(n, cmd, seq_checked, partial=True)
                i += len(seq)
                self.pulses_checked += len(seq)
                continue
            self._check_seq(n, cmd, seq, partial=False)
            i += 1 + cmd.code
            self.pulses_checked += len(seq)
        if i < len(self.pulses):
            p = self.pulses[i]
            raise AssertionError(f"{len(self.pulses) - i} unexpected programming pulse(s), first at "
                                 f"{p.t_rise / 1000:.3f} ns (target {p.target}, index {p.index}, "
                                 f"dir {p.dir})")
        self.commands_checked = len(self.expected)
        return self.commands_checked

    def _check_seq(self, n: int, cmd: ProgCommand, seq: list, partial: bool) -> None:
        where = (f"command #{n} (target {cmd.target}, index {cmd.index}, code {cmd.code})")
        if not partial and len(seq) < 1 + cmd.code:
            raise AssertionError(f"{where}: {len(seq)} pulse(s) seen, {1 + cmd.code} expected "
                                 f"(1 reset + {cmd.code} set)")
        for j, p in enumerate(seq):
            want_dir, want_w = (1, cmd.rst_width) if j == 0 else (0, cmd.set_width)
            at = f"{where}, pulse {j} at {p.t_rise / 1000:.3f} ns"
            if (p.target, p.index) != (cmd.target, cmd.index):
                raise AssertionError(f"{at}: on target {p.target} index {p.index}")
            if p.dir != want_dir:
                raise AssertionError(f"{at}: dir {p.dir}, expected {want_dir}")
            if p.width != want_w:
                raise AssertionError(f"{at}: {p.width} cycles wide, expected {want_w}")
            if j:
                gap = round((p.t_rise - seq[j - 1].t_fall) / self.period)
                # after the reset pulse the gap is max(PROG_GAP, 2): ana_prog_dir changes
                # in it and must be stable one cycle around each pulse (rtl/p2m_prog_seq.v)
                want_gap = max(cmd.gap, 2) if j == 1 else cmd.gap
                if gap != want_gap:
                    raise AssertionError(f"{at}: {gap} idle cycles after the previous pulse, "
                                         f"expected {want_gap} (PROG_GAP = {cmd.gap})")
