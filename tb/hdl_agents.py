"""Python side of the HDL agents of ``p2m_tb`` (tb/hdl/p2m_tb_agents.v): one wake-up per window.

For long runs the per-spike and per-channel work stays in the simulator: the HDL AER
receiver answers every handshake with seeded pseudo-random delays and appends each address
to its event FIFO; the HDL analog side answers ``ana_ch_sel`` from a flag memory and logs
every reset pulse (channel, width) with a mask check. Python, woken once per ``ana_sample``:

1. reads the previous window's events and reset pulses (one read per entry, no wake-up)
   and compares them with the expected stream of the flags it wrote (exact: addresses in
   (channel, y, x) order, one pulse of RST_WIDTH cycles per channel with a spike, masks);
2. writes this window's flags into the flag memory (N_CH words) once.

:class:`HdlReadout` is that; :func:`expected_addresses` is the reference (numpy). The
protocol checks of the receiver (req with ack high, bundled data, address change while req
is high, req falling before ack) are counted in the HDL and read at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from tb.common import sig_int
from tb.config import ClockTiming, Geometry

#: Names of the HDL receiver's violation kinds (p2m_tb_aer_rx ``first_violation``).
VIOLATIONS = {1: "aer_req rose while aer_ack was high",
              2: "bundled data: aer_addr changed less than one clk period before aer_req rose",
              3: "aer_addr changed while aer_req was high",
              4: "aer_req fell before aer_ack rose"}


def expected_addresses(flags: np.ndarray, geo: Geometry) -> np.ndarray:
    """AER addresses of one window's flags (N_CH, N_NEUR) in readout order (channel, then
    row-major y, x): ``{ch, y, x}`` packed as in REGISTERS.md."""
    ch, bit = np.nonzero(flags)
    return geo.addr_pack(ch, bit // geo.out_w, bit % geo.out_w)


#: one reset-log entry of p2m_tb_analog, {rise, fall, all, 7'd0, ch, width} = 160 bits, as
#: little-endian bytes: info = {all, 7'd0, ch, width} (32 bits), fall, rise (64 bits, ps)
RST_ENTRY_DTYPE = np.dtype([("info", "<u4"), ("fall", "<u8"), ("rise", "<u8")])
RST_ENTRY_BYTES = RST_ENTRY_DTYPE.itemsize
RST_ENTRY_BITS = 8 * RST_ENTRY_BYTES


class HdlReset(NamedTuple):
    """One ``ana_rst`` pulse from the HDL log: global, channel, width (clk cycles, rounded),
    rising and falling times (ps)."""

    all: bool
    ch: int
    width: int
    t_rise: int
    t_fall: int


def window_errors(k: int, aer: np.ndarray, flags: np.ndarray, resets: list[HdlReset],
                  rst_width: int, geo: Geometry) -> list[str]:
    """What differs between window ``k``'s readout and its latched ``flags`` (N_CH, N_NEUR):
    the AER addresses (in the scan order of :func:`expected_addresses`), one channel reset
    pulse per spiking channel in channel order, each ``rst_width`` cycles wide. Empty: it
    is exact."""
    errors = []
    want = expected_addresses(flags, geo)
    if aer.size != want.size or not np.array_equal(aer, want):
        i = next((j for j in range(min(aer.size, want.size)) if aer[j] != want[j]),
                 min(aer.size, want.size))
        got_i = geo.addr_unpack(int(aer[i])) if i < aer.size else None
        want_i = geo.addr_unpack(int(want[i])) if i < want.size else None
        errors.append(f"window {k}: {aer.size} AER events, {want.size} latched spikes; "
                      f"entry {i}: got {got_i}, expected {want_i}")
    channels = [r.ch for r in resets]
    spiking = [int(c) for c in np.flatnonzero(flags.any(axis=1))]
    if channels != spiking:
        errors.append(f"window {k}: reset pulses of channels {channels[:6]}..., spiking "
                      f"channels {spiking[:6]}...")
    widths = sorted({r.width for r in resets} - {rst_width})
    if widths:
        errors.append(f"window {k}: reset widths {widths} cycles, RST_WIDTH = {rst_width}")
    return errors


@dataclass
class WindowCheck:
    """What one window's check found: events, channel resets, mismatches (0 when clean)."""

    events: int
    resets: int


class HdlReadout:
    """Drives the HDL agents of ``top`` (p2m_tb) and checks one window at a time."""

    def __init__(self, top, geo: Geometry, timing: ClockTiming) -> None:
        self.top, self.geo, self.timing = top, geo, timing
        self.rx, self.ana = top.u_aer_rx, top.u_analog
        self.pending: np.ndarray | None = None  # flags of the window being read out
        self.rst_width = 16
        self.events = self.resets = self.windows = 0

    def enable(self, seed: int, max_ack_ns: float = 0.0, max_rel_ns: float = 0.0) -> None:
        """Put the HDL receiver and flag memory in charge of aer_ack / ana_flags; delays
        uniform in [0, max] ns from a xorshift32 seeded by ``seed``."""
        self.reseed(seed)
        self.rx.max_ack_ps.value = int(max_ack_ns * 1000)
        self.rx.max_rel_ps.value = int(max_rel_ns * 1000)
        self.top.hdl_aer.value = 1
        self.top.hdl_flags.value = 1

    def reseed(self, seed: int) -> None:
        """Restart the receiver's delay sequence (xorshift32) from ``seed``."""
        self.rx.rng.value = (seed & 0xFFFFFFFF) or 1

    def clear(self) -> None:
        """Forget what the HDL agents logged before (an earlier test of the same simulation):
        the event FIFO, the reset log and the mask error count."""
        self.rx.ev_count.value = 0
        self._rst_read = sig_int(self.ana.rst_count, 0)
        self.ana.mask_errors.value = 0

    def write_flags(self, flags: np.ndarray) -> None:
        """This window's latched flags (N_CH, N_NEUR) into the flag memory (once). The HDL
        packs FPACK channels per word (p2m_tb_analog): one simulator access per word."""
        mem, n = self.ana.mem, self.geo.n_neur
        words = len(mem)
        pack = len(mem[0]) // n
        bits = np.zeros((words * pack, n), bool)
        bits[:self.geo.n_ch] = flags
        raw = np.packbits(bits.reshape(words, pack * n), axis=1, bitorder="little")
        for w in range(words):
            mem[w].value = int.from_bytes(raw[w].tobytes(), "little")
        self.ana.gen.value = (sig_int(self.ana.gen, 0) + 1) & 0xFFFFFFFF
        self.pending = np.asarray(flags, bool)

    def read_events(self) -> np.ndarray:
        """The AER addresses received since the last read, in arrival order (int64); clears
        the FIFO. The HDL packs PACK addresses per word (p2m_tb_aer_rx): one simulator
        access per word."""
        n = sig_int(self.rx.ev_count, 0)
        mem, aw = self.rx.ev_mem, self.geo.aw
        pack = len(mem[0]) // aw
        nbytes = -(-len(mem[0]) // 8)
        raw = b"".join(int(mem[i].value).to_bytes(nbytes, "little")
                       for i in range(-(-n // pack)))
        bits = np.unpackbits(np.frombuffer(raw, np.uint8).reshape(-1, nbytes), axis=1,
                             bitorder="little")[:, :pack * aw].reshape(-1, aw)
        out = (bits[:n].astype(np.int64) << np.arange(aw, dtype=np.int64)).sum(axis=1)
        self.rx.ev_count.value = 0
        return out

    def read_resets(self) -> list[HdlReset]:
        """Every ana_rst pulse since the last read, in order (:class:`HdlReset`: global,
        channel, width in cycles, rise and fall in ps). The HDL log is a ring that only
        counts up; this reads from its own pointer (no write back: a pulse logged in the same
        time step as the read can never be lost); more than the ring holds is an error. The
        HDL packs RPACK entries per word: one simulator access per word."""
        a = self.ana
        n = sig_int(a.rst_count, 0)
        start = getattr(self, "_rst_read", 0)
        log = a.rst_log
        pack = len(log[0]) // RST_ENTRY_BITS
        depth = len(log) * pack
        if n - start > depth:
            raise AssertionError(f"HDL reset log overflow: {n - start} pulses since the last "
                                 f"read, the ring holds {depth}")
        # entries start .. n-1 lie in the words k0 .. k1 of the unrolled ring (word k is
        # rst_log[k % len(log)]; with a full ring, the first and last are the same word)
        k0, k1 = start // pack, (n - 1) // pack
        raw = b"".join(int(log[k % len(log)].value).to_bytes(pack * RST_ENTRY_BYTES, "little")
                       for k in range(k0, k1 + 1))
        e = np.frombuffer(raw, RST_ENTRY_DTYPE)[start - k0 * pack:][:n - start]
        out = [HdlReset(bool(info >> 31), (info >> 16) & 0xFF, info & 0xFFFF, rise, fall)
               for info, fall, rise in e.tolist()]
        self._rst_read = n
        return out

    def check_window(self) -> WindowCheck:
        """Compare the window read out since the last sample with its flags; AssertionError
        naming the first difference."""
        if self.pending is None:
            self.read_events()
            self.read_resets()
            return WindowCheck(0, 0)
        got = self.read_events()
        resets = [r for r in self.read_resets() if not r.all]
        errors = window_errors(self.windows, got, self.pending, resets, self.rst_width,
                               self.geo)
        if errors:
            raise AssertionError("; ".join(errors))
        bad = sig_int(self.ana.mask_errors, 0)
        if bad:
            raise AssertionError(f"{bad} reset pulse(s) with ana_rst_mask != the channel's flags")
        self.windows += 1
        self.events += got.size
        self.resets += len(resets)
        return WindowCheck(got.size, len(resets))

    def check_protocol(self) -> None:
        n = sig_int(self.rx.violations, 0)
        if n:
            kind = sig_int(self.rx.first_violation, 0)
            t = sig_int(self.rx.first_violation_ps, 0)
            raise AssertionError(f"HDL AER receiver: {n} protocol violation(s), first at "
                                 f"{t / 1000:.3f} ns: {VIOLATIONS.get(kind, kind)}")
