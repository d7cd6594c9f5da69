"""Event-camera file readers and writers.

``read_events(path)`` reads one recording into an :class:`EventStream`: a numpy
structured array ``events`` with fields ``x, y`` (uint16 pixel column / row),
``t`` (int64, microseconds) and ``p`` (uint8, 0 = OFF, 1 = ON), in time order, plus
the sensor size ``(H, W)`` in pixels. ``events, sensor_size = read_events(path)``
unpacks it.

Formats (detected from the content first, then the extension; ``docs/events.md``
has the byte layouts and their sources):

========== ====================================================================
``nmnist`` N-MNIST / N-Caltech101 ATIS ``.bin`` (also the ``.bs2`` of the
           nmnist-small subset): 5-byte big-endian events, with the timestamp
           overflow marker events (y == 240: +2^13 us for all later events)
``aedat2`` AEDAT 2.0 (jAER, DVS128; CIFAR10-DVS raw): ``#!AER-DAT2.0`` header,
           big-endian int32 address + int32 timestamp (us; 32-bit wraps unwrapped)
``aedat3`` AEDAT 3.1 (cAER; DVS128 Gesture raw): header, then packets with a
           28-byte header; polarity events of 8 bytes; 31-bit timestamp plus the
           packet's overflow counter
``aedat4`` AEDAT 4.0 (iniVation DV): IOHeader flatbuffer, packets of
           size-prefixed ``EventPacket`` flatbuffers, optionally LZ4/zstd-framed
``npy``    ``.npy``: a structured array with fields x, y, t, p, or tonic's DVS
           Gesture ``(N, 4)`` float array ``[x, y, p, t_ms]``
``npz``    ``.npz``: keys ``x, y, t, p`` (SpikingJelly ``events_np`` and this
           module's writer, which adds ``sensor_size``)
========== ====================================================================

Malformed input raises :class:`EventFormatError` (a ``ValueError``) naming the file
and the byte offset or event index. Nothing is dropped or reordered silently: the
fix-up policies (``sort``, ``out_of_range='clip'|'drop'``) are explicit arguments and
what they changed is counted in ``EventStream.info``; records that the format itself
says are not events (N-MNIST overflow markers, AEDAT 2.0 special/external events,
AEDAT 3.1 invalid-marked events, non-polarity packets) are counted there too.
"""

from __future__ import annotations

import io
import os
import re
import struct
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: The in-memory event record: x = column, y = row (pixels), t in microseconds, p 0/1.
EVENT_DTYPE = np.dtype([("x", "<u2"), ("y", "<u2"), ("t", "<i8"), ("p", "u1")])

FORMATS = ("nmnist", "aedat2", "aedat3", "aedat4", "npy", "npz")

#: The ``out_of_range`` policies of :func:`read_events`.
OUT_OF_RANGE_POLICIES = ("error", "clip", "drop")

#: N-MNIST sensor (ATIS crop), pixels (H, W). Orchard et al. 2015, Front. Neurosci. 9:437.
NMNIST_SENSOR = (34, 34)
#: DVS128 sensor (H, W): CIFAR10-DVS (Li et al. 2017) and DVS128 Gesture (Amir et al. 2017).
DVS128_SENSOR = (128, 128)
#: N-MNIST overflow marker: an event with y == 240 adds 2^13 us to all later timestamps
#: (Orchard's eventvision.py reader and tonic's read_mnist_file do the same).
NMNIST_OVERFLOW_Y = 240
NMNIST_OVERFLOW_US = 1 << 13

AEDAT2_MAGIC = b"#!AER-DAT2.0"
AEDAT3_MAGIC = b"#!AER-DAT3.1"
AEDAT4_MAGIC = b"#!AER-DAT4.0\r\n"
AEDAT3_PACKET_HEADER = struct.Struct("<hhiiiiii")  # 28 bytes, little-endian
AEDAT3_POLARITY_EVENT = 1
#: AEDAT 4.0 ``dv::Event`` struct: int64 timestamp, int16 x, int16 y, bool polarity,
#: padded to 16 bytes (flatbuffers struct alignment 8).
AEDAT4_EVENT_DTYPE = np.dtype(
    {"names": ["t", "x", "y", "p"], "formats": ["<i8", "<i2", "<i2", "u1"],
     "offsets": [0, 8, 10, 12], "itemsize": 16}
)
AEDAT4_COMPRESSION = {0: "none", 1: "lz4", 2: "lz4_high", 3: "zstd", 4: "zstd_high"}

#: AEDAT 2.0 / DVS128 address maps: how (x, y, p) are made from the raw address bits
#: x_raw = (addr >> 1) & 0x7F, y_raw = (addr >> 8) & 0x7F, bit0 = addr & 1.
#: 'jaer': jAER / dat2mat.m convention x = 127 - x_raw, y = y_raw, p = 1 - bit0.
#: 'cifar10dvs': SpikingJelly's CIFAR10-DVS convention (``load_origin_data`` in
#:   spikingjelly/datasets/cifar10_dvs.py, after jackd/events-tfds PR 1)
#:   x = 127 - y_raw, y = 127 - x_raw, p = 1 - bit0 (upright images). tonic's
#:   ``io.read_dvs_128`` differs: x = y_raw, y = x_raw, p = bit0 (no flips), and tonic's
#:   CIFAR10DVS class reads its own .aedat4 re-encoding instead.
#: 'raw': x = x_raw, y = y_raw, p = bit0 (the reading of iniVation's AEDAT 1.0 DVS128 bit
#:   table, which says bit 0 = 1 is ON; jAER's extractor and libcaer say the opposite).
AEDAT2_ADDRESS_MAPS = ("jaer", "cifar10dvs", "raw")
#: DVS128 special-event flags, as jAER's ``DVS128.Extractor`` tests them:
#: ``addr & (SYNC_EVENT_BITMASK | BasicEvent.SPECIAL_EVENT_BIT_MASK)`` = 0x8000 | 0x80000000.
AEDAT2_SPECIAL_BIT = 0x8000  # external (sync) input event, bit 15
AEDAT2_SPECIAL_MASK = AEDAT2_SPECIAL_BIT | 0x80000000  # + bit 31: jAER special event
#: AEDAT 2.0 timestamps are 32-bit counters (read as their unsigned bit pattern, like
#: SpikingJelly and tonic do); a backward jump of more than half the range is a wrap.
AEDAT2_TS_RANGE = 1 << 32


class EventFormatError(ValueError):
    """A malformed or unreadable event file.

    Attributes: ``path`` (the file), ``offset`` (byte offset, or None), ``index``
    (event index, or None). The message names all that are known.
    """

    def __init__(self, path, message: str, *, offset: int | None = None,
                 index: int | None = None):
        self.path = str(path)
        self.offset = offset
        self.index = index
        where = []
        if offset is not None:
            where.append(f"byte offset {offset}")
        if index is not None:
            where.append(f"event index {index}")
        loc = f" at {', '.join(where)}" if where else ""
        super().__init__(f"{self.path}{loc}: {message}")


@dataclass
class EventStream:
    """One recording: ``events`` (structured, :data:`EVENT_DTYPE`, time-ordered) and
    ``sensor_size`` (H, W) in pixels. ``info`` counts every fix-up and every record
    the format says to skip. Unpacks as ``events, sensor_size = stream``."""

    events: np.ndarray
    sensor_size: tuple[int, int]
    format: str = ""
    path: str = ""
    info: dict = field(default_factory=dict)

    def __iter__(self) -> Iterator:
        return iter((self.events, self.sensor_size))

    def __len__(self) -> int:
        return len(self.events)

    @property
    def duration_us(self) -> int:
        """Last minus first timestamp, microseconds (0 when empty)."""
        if len(self.events) == 0:
            return 0
        return int(self.events["t"][-1] - self.events["t"][0])

    def summary(self) -> dict:
        """Event count, sensor size, duration, first/last timestamps (us), ON fraction."""
        ev = self.events
        n = len(ev)
        return {
            "path": self.path,
            "format": self.format,
            "events": int(n),
            "sensor_size": [int(self.sensor_size[0]), int(self.sensor_size[1])],
            "duration_us": self.duration_us,
            "t_first_us": int(ev["t"][0]) if n else None,
            "t_last_us": int(ev["t"][-1]) if n else None,
            "on_fraction": float(ev["p"].mean()) if n else None,
            "info": {k: (v if not isinstance(v, np.integer) else int(v))
                     for k, v in self.info.items()},
        }


def make_events(x, y, t, p) -> np.ndarray:
    """Pack four equal-length arrays into an :data:`EVENT_DTYPE` array (no checks)."""
    x = np.asarray(x)
    ev = np.empty(x.shape[0], dtype=EVENT_DTYPE)
    ev["x"] = x
    ev["y"] = y
    ev["t"] = t
    ev["p"] = p
    return ev


# --------------------------------------------------------------------------------------
# Format detection
# --------------------------------------------------------------------------------------

_EXT_FORMAT = {".bin": "nmnist", ".bs2": "nmnist", ".npy": "npy", ".npz": "npz",
               ".aedat4": "aedat4"}


def detect_format(path) -> str:
    """Guess the format of ``path`` from its first bytes, then its extension.

    Raises :class:`EventFormatError` when neither identifies a known format."""
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(64)
    if head.startswith(AEDAT4_MAGIC[:12]):
        return "aedat4"
    if head.startswith(AEDAT3_MAGIC):
        return "aedat3"
    if head.startswith(AEDAT2_MAGIC):
        return "aedat2"
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "npz"
    ext = path.suffix.lower()
    if ext in _EXT_FORMAT:
        return _EXT_FORMAT[ext]
    if ext == ".aedat":
        # An .aedat without a version line: jAER files before 2.0 had none; refuse.
        raise EventFormatError(path, "'.aedat' file without an '#!AER-DAT' version line",
                               offset=0)
    raise EventFormatError(path, f"cannot tell the event format (extension {ext!r}, "
                           f"first bytes {head[:12]!r}); pass format= one of {FORMATS}",
                           offset=0)


# --------------------------------------------------------------------------------------
# Validation and fix-up policies (shared by all readers)
# --------------------------------------------------------------------------------------

def _finalize(path, fmt, x, y, t, p, sensor_size, info, *, sort, out_of_range,
              time_tolerance_us, byte_offsets=None, coord_limit=None) -> EventStream:
    """Validate coordinates and time order, apply the explicit policies, pack.

    ``byte_offsets`` (optional array or callable index -> offset) lets errors name
    the byte offset of the offending record."""
    H, W = int(sensor_size[0]), int(sensor_size[1])
    if H <= 0 or W <= 0:
        raise EventFormatError(path, f"sensor size must be positive, got {(H, W)}")
    if out_of_range not in OUT_OF_RANGE_POLICIES:
        raise ValueError(f"out_of_range must be 'error', 'clip' or 'drop', got {out_of_range!r}")
    if time_tolerance_us < 0:
        raise ValueError(f"time_tolerance_us must be >= 0, got {time_tolerance_us!r}")

    def where(i):
        if byte_offsets is None:
            return None
        return int(byte_offsets(i)) if callable(byte_offsets) else int(byte_offsets[i])

    x = np.asarray(x).astype(np.int64, copy=False)
    y = np.asarray(y).astype(np.int64, copy=False)
    t = np.asarray(t).astype(np.int64, copy=False)
    p = np.asarray(p)
    if p.size and (p.min() < 0 or p.max() > 1):
        i = int(np.flatnonzero((p < 0) | (p > 1))[0])
        raise EventFormatError(path, f"polarity {int(p[i])} is not 0 or 1", index=i,
                               offset=where(i))
    keep = None
    bad = (x < 0) | (x >= W) | (y < 0) | (y >= H)
    if bad.any():
        n_bad = int(bad.sum())
        if out_of_range == "error":
            i = int(np.flatnonzero(bad)[0])
            raise EventFormatError(
                path, f"event (x={int(x[i])}, y={int(y[i])}) outside the {H}x{W} sensor "
                f"({n_bad} such events; out_of_range='clip' or 'drop' fixes them)",
                index=i, offset=where(i))
        if out_of_range == "clip":
            x = np.clip(x, 0, W - 1)
            y = np.clip(y, 0, H - 1)
            info["clipped_out_of_range"] = n_bad
        else:
            keep = ~bad
            info["dropped_out_of_range"] = n_bad
    if keep is not None:
        x, y, t, p = x[keep], y[keep], t[keep], p[keep]
    if t.size > 1:
        d = np.diff(t)
        back = d < 0
        if back.any():
            worst = int(-d.min())
            if not sort and worst > time_tolerance_us:
                i = int(np.flatnonzero(d < -time_tolerance_us)[0]) + 1
                raise EventFormatError(
                    path, f"time goes backwards by {int(-d[i - 1])} us (t={int(t[i - 1])} "
                    f"-> {int(t[i])}), beyond the tolerance of {time_tolerance_us} us "
                    "(sort=True reorders)", index=i,
                    offset=where(i) if keep is None else None)
            order = np.argsort(t, kind="stable")
            moved = int((order != np.arange(order.size)).sum())
            x, y, t, p = x[order], y[order], t[order], p[order]
            info["sorted_moved_events"] = moved
            info["max_backward_step_us"] = worst
    ev = make_events(x, y, t, p)
    return EventStream(ev, (H, W), fmt, str(path), info)


# --------------------------------------------------------------------------------------
# N-MNIST .bin (ATIS)
# --------------------------------------------------------------------------------------

def _read_nmnist(path, data: bytes, sensor_size, **policy) -> EventStream:
    n_bytes = len(data)
    if n_bytes % 5:
        raise EventFormatError(
            path, f"truncated N-MNIST file: {n_bytes} bytes is not a multiple of the "
            "5-byte event size", offset=n_bytes - n_bytes % 5, index=n_bytes // 5)
    raw = np.frombuffer(data, dtype=np.uint8).reshape(-1, 5)
    x = raw[:, 0]
    y = raw[:, 1]
    b2 = raw[:, 2].astype(np.int64)
    t = ((b2 & 0x7F) << 16) | (raw[:, 3].astype(np.int64) << 8) | raw[:, 4]
    p = (b2 >> 7).astype(np.uint8)
    info = {}
    marker = y == NMNIST_OVERFLOW_Y
    if marker.any():
        # +2^13 us for the marker and every later event; the markers are not events.
        t = t + np.cumsum(marker, dtype=np.int64) * NMNIST_OVERFLOW_US
        keep = ~marker
        idx = np.flatnonzero(keep)
        x, y, t, p = x[keep], y[keep], t[keep], p[keep]
        info["overflow_markers"] = int(marker.sum())
        offsets = idx * 5
    else:
        offsets = lambda i: 5 * i  # noqa: E731
    return _finalize(path, "nmnist", x, y, t, p, sensor_size or NMNIST_SENSOR, info,
                     byte_offsets=offsets, **policy)


def write_nmnist_bin(path, events, *, insert_overflow_markers: bool = False) -> None:
    """Write ``events`` (EVENT_DTYPE, time-ordered, x, y < 240, t >= 0) as an N-MNIST
    ``.bin``. Timestamps must fit 23 bits (< 8,388,608 us) unless
    ``insert_overflow_markers``: then each 2^13 us boundary crossed is written as an
    overflow marker event (y = 240) and timestamps are stored relative to it."""
    ev = np.asarray(events)
    x = ev["x"].astype(np.int64)
    y = ev["y"].astype(np.int64)
    t = ev["t"].astype(np.int64)
    p = ev["p"].astype(np.int64)
    if ev.size and (x.max() > 255 or y.max() >= NMNIST_OVERFLOW_Y):
        raise ValueError("events: x must be <= 255 and y < 240 for the N-MNIST .bin format")
    if ev.size and t.min() < 0:
        raise ValueError(f"events: timestamps must be >= 0 us, got min {t.min()}")
    if ev.size > 1 and (np.diff(t) < 0).any():
        raise ValueError("events: must be in time order to write N-MNIST .bin")
    if insert_overflow_markers and ev.size:
        k = t // NMNIST_OVERFLOW_US  # markers before this event
        n_mark = int(k[-1])
        # position of each event in the output: its index + markers before it
        pos = np.arange(ev.size) + k
        total = ev.size + n_mark
        xo = np.zeros(total, np.int64)
        yo = np.full(total, NMNIST_OVERFLOW_Y, np.int64)
        to = np.zeros(total, np.int64)
        po = np.zeros(total, np.int64)
        xo[pos], yo[pos], to[pos], po[pos] = x, y, t - k * NMNIST_OVERFLOW_US, p
        # marker j (1..n_mark) sits just before the first event with k >= j
        first = np.searchsorted(k, np.arange(1, n_mark + 1), side="left")
        mpos = first + np.arange(n_mark)
        yo[mpos] = NMNIST_OVERFLOW_Y
        # marker timestamp: the stored value is irrelevant to readers; keep it 0.
        x, y, t, p = xo, yo, to, po
    if t.size and t.max() >= 1 << 23:
        raise ValueError("events: timestamps >= 2^23 us need insert_overflow_markers=True")
    out = np.empty((x.size, 5), np.uint8)
    out[:, 0] = x
    out[:, 1] = y
    out[:, 2] = (p << 7) | ((t >> 16) & 0x7F)
    out[:, 3] = (t >> 8) & 0xFF
    out[:, 4] = t & 0xFF
    Path(path).write_bytes(out.tobytes())


# --------------------------------------------------------------------------------------
# AEDAT 2.0 (jAER)
# --------------------------------------------------------------------------------------

def _skip_header_lines(data: bytes, stop_line: bytes | None = None) -> int:
    """Byte offset of the first byte after the '#' header lines."""
    pos = 0
    n = len(data)
    while pos < n and data[pos:pos + 1] == b"#":
        nl = data.find(b"\n", pos)
        if nl < 0:
            return -1
        line = data[pos:nl + 1]
        pos = nl + 1
        if stop_line is not None and line.rstrip(b"\r\n") == stop_line:
            break
    return pos


def _unwrap_ts32(t: np.ndarray) -> tuple[np.ndarray, int]:
    """Unwrap a 32-bit timestamp counter (values 0 .. 2^32 - 1) into int64.

    A step back by more than half the range (2^31 us) is a wrap: 2^32 is added to it and
    every later timestamp. A step forward by more than half the range undoes an earlier
    wrap (a late event from before it); with no wrap to undo it is left alone (a gap).
    Returns the unwrapped timestamps and the net number of wraps."""
    if t.size < 2:
        return t, 0
    d = np.diff(t)
    half = AEDAT2_TS_RANGE >> 1
    jumps = np.flatnonzero((d < -half) | (d > half))
    if not jumps.size:
        return t, 0
    step = np.zeros(t.size, np.int64)
    k = 0
    for j in jumps:
        if d[j] < 0:
            step[j + 1] += 1
            k += 1
        elif k > 0:
            step[j + 1] -= 1
            k -= 1
    return t + np.cumsum(step) * AEDAT2_TS_RANGE, k


def _read_aedat2(path, data: bytes, sensor_size, address_map="jaer", **policy) -> EventStream:
    if address_map not in AEDAT2_ADDRESS_MAPS:
        raise ValueError(f"address_map must be one of {AEDAT2_ADDRESS_MAPS}, got {address_map!r}")
    start = _skip_header_lines(data)
    if start < 0:
        raise EventFormatError(path, "AEDAT 2.0 header line without a line end", offset=0)
    body = len(data) - start
    if body % 8:
        raise EventFormatError(
            path, f"truncated AEDAT 2.0 data: {body} bytes after the header is not a "
            "multiple of 8 (address + timestamp)", offset=start + body - body % 8,
            index=body // 8)
    raw = np.frombuffer(data[start:], dtype=">u4").reshape(-1, 2)
    addr = raw[:, 0].astype(np.int64)
    t, wraps = _unwrap_ts32(raw[:, 1].astype(np.int64))
    info = {"header_bytes": start, "timestamp_wraps": wraps}
    special = (addr & AEDAT2_SPECIAL_MASK) != 0
    high = np.flatnonzero(~special & ((addr >> 16) != 0))
    if high.size:
        # A DVS128 event address uses bits 0..14 (bit 15 / bit 31: special, above);
        # bits 16..30 set is not a DVS128 address.
        i = int(high[0])
        raise EventFormatError(path, f"address 0x{int(addr[i]):08x} is not a DVS128 "
                               "address (bits 16..30 set)", index=i, offset=start + 8 * i)
    idx = None
    if special.any():
        keep = ~special
        idx = np.flatnonzero(keep)
        addr, t = addr[keep], t[keep]
        info["special_events_skipped"] = int(special.sum())
    x_raw = (addr >> 1) & 0x7F
    y_raw = (addr >> 8) & 0x7F
    bit0 = addr & 1
    if address_map == "jaer":
        x, y, p = 127 - x_raw, y_raw, 1 - bit0
    elif address_map == "cifar10dvs":
        x, y, p = 127 - y_raw, 127 - x_raw, 1 - bit0
    else:
        x, y, p = x_raw, y_raw, bit0
    info["address_map"] = address_map
    offsets = (start + 8 * idx) if idx is not None else (lambda i: start + 8 * i)
    return _finalize(path, "aedat2", x, y, t, p, sensor_size or DVS128_SENSOR, info,
                     byte_offsets=offsets, **policy)


def write_aedat2(path, events, *, address_map="jaer") -> None:
    """Write ``events`` (DVS128, 128x128, t < 2^32 us) as AEDAT 2.0, inverting
    ``address_map`` (see :data:`AEDAT2_ADDRESS_MAPS`)."""
    ev = np.asarray(events)
    x = ev["x"].astype(np.int64)
    y = ev["y"].astype(np.int64)
    p = ev["p"].astype(np.int64)
    t = ev["t"].astype(np.int64)
    if ev.size and (x.max() > 127 or y.max() > 127):
        raise ValueError("events: DVS128 AEDAT 2.0 needs x, y <= 127")
    if ev.size and (t.min() < 0 or t.max() >= 1 << 32):
        raise ValueError("events: AEDAT 2.0 timestamps must be in [0, 2^32) us")
    if address_map == "jaer":
        x_raw, y_raw, bit0 = 127 - x, y, 1 - p
    elif address_map == "cifar10dvs":
        x_raw, y_raw, bit0 = 127 - y, 127 - x, 1 - p
    elif address_map == "raw":
        x_raw, y_raw, bit0 = x, y, p
    else:
        raise ValueError(f"address_map must be one of {AEDAT2_ADDRESS_MAPS}, got {address_map!r}")
    addr = (y_raw << 8) | (x_raw << 1) | bit0
    out = np.empty((ev.size, 2), ">u4")
    out[:, 0] = addr
    out[:, 1] = t
    header = (b"#!AER-DAT2.0\r\n# This is a raw AE data file - do not edit\r\n"
              b"# Data format is int32 address, int32 timestamp (8 bytes total), "
              b"repeated for each event\r\n# Timestamps tick is 1 us\r\n"
              b"# created by p2m-bench golden.events.write_aedat2\r\n")
    Path(path).write_bytes(header + out.tobytes())


# --------------------------------------------------------------------------------------
# AEDAT 3.1 (cAER)
# --------------------------------------------------------------------------------------

def _read_aedat3(path, data: bytes, sensor_size, **policy) -> EventStream:
    start = _skip_header_lines(data, stop_line=b"#!END-HEADER")
    if start < 0:
        raise EventFormatError(path, "AEDAT 3.1 header line without a line end", offset=0)
    header = data[:start]
    if b"#!END-HEADER" not in header:
        raise EventFormatError(path, "AEDAT 3.1 header without '#!END-HEADER'", offset=start)
    if sensor_size is None:
        sensor_size = DVS128_SENSOR
        m = re.search(rb"sizeX\D{0,8}(\d{1,6}).*?sizeY\D{0,8}(\d{1,6})", header, re.S)
        if m:
            sensor_size = (int(m.group(2)), int(m.group(1)))
    pos = start
    n = len(data)
    xs, ys, ts, ps, offs = [], [], [], [], []
    info = {"packets": 0, "non_polarity_packets_skipped": 0, "invalid_events_skipped": 0}
    while pos < n:
        if n - pos < AEDAT3_PACKET_HEADER.size:
            raise EventFormatError(path, f"truncated AEDAT 3.1 packet header "
                                   f"({n - pos} of 28 bytes)", offset=pos)
        (etype, _src, esize, ets_off, ets_ovf, ecap, enum, _evalid) = \
            AEDAT3_PACKET_HEADER.unpack_from(data, pos)
        if esize <= 0 or ecap < 0 or enum < 0 or enum > ecap or ets_off < 0 \
                or ets_off + 4 > esize or ets_ovf < 0:
            raise EventFormatError(
                path, f"bad AEDAT 3.1 packet header (type {etype}, size {esize}, "
                f"tsOffset {ets_off}, tsOverflow {ets_ovf}, capacity {ecap}, number {enum})",
                offset=pos)
        body = pos + AEDAT3_PACKET_HEADER.size
        length = ecap * esize
        if body + length > n:
            raise EventFormatError(path, f"truncated AEDAT 3.1 packet: needs {length} bytes, "
                                   f"{n - body} left", offset=body)
        info["packets"] += 1
        if etype == AEDAT3_POLARITY_EVENT:
            if esize != 8 or ets_off != 4:
                raise EventFormatError(path, f"polarity packet with event size {esize} and "
                                       f"timestamp offset {ets_off} (expected 8 and 4)",
                                       offset=pos)
            raw = np.frombuffer(data, dtype="<u4", count=2 * enum, offset=body).reshape(-1, 2)
            d = raw[:, 0].astype(np.int64)
            tt = raw[:, 1].astype(np.int64)
            if (tt >> 31).any():
                i = int(np.flatnonzero(tt >> 31)[0])
                raise EventFormatError(path, "negative 32-bit timestamp in a polarity event",
                                       offset=body + 8 * i)
            valid = (d & 1) == 1
            n_inv = int((~valid).sum())
            k = np.flatnonzero(valid)
            info["invalid_events_skipped"] += n_inv
            d, tt = d[k], tt[k]
            xs.append((d >> 17) & 0x7FFF)
            ys.append((d >> 2) & 0x7FFF)
            ps.append((d >> 1) & 1)
            ts.append(tt | (np.int64(ets_ovf) << 31))
            offs.append(body + 8 * k)
        else:
            info["non_polarity_packets_skipped"] += 1
        pos = body + length
    cat = (lambda a: np.concatenate(a)) if xs else (lambda a: np.zeros(0, np.int64))
    offsets = cat(offs)
    return _finalize(path, "aedat3", cat(xs), cat(ys), cat(ts), cat(ps), sensor_size, info,
                     byte_offsets=offsets, **policy)


def write_aedat31(path, events, *, sensor_size=DVS128_SENSOR, packet_events: int = 4096,
                  source_name: str = "DVS128") -> None:
    """Write ``events`` as an AEDAT 3.1 file of polarity packets (all events valid).

    Timestamps above 2^31 - 1 us are split into the packet's overflow counter; a
    packet never spans an overflow boundary."""
    ev = np.asarray(events)
    t = ev["t"].astype(np.int64)
    if ev.size and t.min() < 0:
        raise ValueError("events: AEDAT 3.1 timestamps must be >= 0 us")
    if packet_events <= 0:
        raise ValueError(f"packet_events must be > 0, got {packet_events}")
    H, W = sensor_size
    header = ("#!AER-DAT3.1\r\n#Format: RAW\r\n"
              f"#Source 1: {source_name}\r\n"
              f"#Start-Time: p2m-bench sizeX {W} sizeY {H}\r\n#!END-HEADER\r\n").encode()
    chunks = [header]
    data = ((ev["x"].astype(np.int64) << 17) | (ev["y"].astype(np.int64) << 2)
            | (ev["p"].astype(np.int64) << 1) | 1)
    ovf = t >> 31
    i = 0
    while i < ev.size:
        j = min(i + packet_events, ev.size)
        j = i + int(np.searchsorted(ovf[i:j], ovf[i], side="right"))
        cnt = j - i
        chunks.append(AEDAT3_PACKET_HEADER.pack(AEDAT3_POLARITY_EVENT, 1, 8, 4, int(ovf[i]),
                                                cnt, cnt, cnt))
        body = np.empty((cnt, 2), "<u4")
        body[:, 0] = data[i:j]
        body[:, 1] = t[i:j] & 0x7FFFFFFF
        chunks.append(body.tobytes())
        i = j
    Path(path).write_bytes(b"".join(chunks))


def read_gesture_labels(path) -> np.ndarray:
    """Read a DVS128 Gesture ``*_labels.csv`` (header ``class,startTime_usec,endTime_usec``,
    classes 1..11). Returns a structured array (label 0..10, start_us, end_us)."""
    path = Path(path)
    rows = []
    with open(path) as f:
        lines = f.read().splitlines()
    for k, line in enumerate(lines):
        line = line.strip()
        if not line:
            continue
        parts = [s.strip() for s in line.split(",")]
        if k == 0 and not parts[0].lstrip("-").isdigit():
            continue  # header line
        if len(parts) != 3:
            raise EventFormatError(path, f"line {k + 1}: expected 3 comma-separated fields, "
                                   f"got {line!r}")
        try:
            c, s, e = (int(v) for v in parts)
        except ValueError:
            raise EventFormatError(path, f"line {k + 1}: not integers: {line!r}") from None
        if not 1 <= c <= 11 or e < s or s < 0:
            raise EventFormatError(path, f"line {k + 1}: class must be 1..11 and "
                                   f"0 <= start <= end, got {line!r}")
        rows.append((c - 1, s, e))
    return np.array(rows, dtype=[("label", "i8"), ("start_us", "i8"), ("end_us", "i8")])


def split_by_labels(events: np.ndarray, labels: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """Cut a time-ordered recording into labelled segments ``start_us <= t < end_us``
    (SpikingJelly's DVS128Gesture convention). Returns [(label, events), ...]."""
    t = events["t"]
    out = []
    for row in labels:
        a = int(np.searchsorted(t, row["start_us"], side="left"))
        b = int(np.searchsorted(t, row["end_us"], side="left"))
        out.append((int(row["label"]), events[a:b]))
    return out


# --------------------------------------------------------------------------------------
# AEDAT 4.0 (iniVation DV): flatbuffers parsed by hand (schemas: ioheader.fbs, events.fbs)
# --------------------------------------------------------------------------------------

def _fb_u32(buf, pos, path, what):
    if pos < 0 or pos + 4 > len(buf):
        raise EventFormatError(path, f"flatbuffer {what}: offset {pos} outside the "
                               f"{len(buf)}-byte buffer")
    return struct.unpack_from("<I", buf, pos)[0]


def _fb_table_fields(buf, table, path, what) -> tuple[int, ...]:
    """Return the absolute position of each field of a flatbuffer table (0 = absent)."""
    if table < 0 or table + 4 > len(buf):
        raise EventFormatError(path, f"flatbuffer {what}: table offset {table} out of range")
    soff = struct.unpack_from("<i", buf, table)[0]
    vt = table - soff
    if vt < 0 or vt + 4 > len(buf):
        raise EventFormatError(path, f"flatbuffer {what}: vtable offset {vt} out of range")
    vt_size, _obj_size = struct.unpack_from("<HH", buf, vt)
    if vt_size < 4 or vt_size % 2 or vt + vt_size > len(buf):
        raise EventFormatError(path, f"flatbuffer {what}: bad vtable size {vt_size}")
    n = (vt_size - 4) // 2
    offs = struct.unpack_from(f"<{n}H", buf, vt + 4)
    return tuple(table + o if o else 0 for o in offs)


def _parse_ioheader(buf: bytes, path):
    root = _fb_u32(buf, 0, path, "IOHeader root")
    fields = _fb_table_fields(buf, root, path, "IOHeader") + (0, 0, 0)
    if fields[0] and fields[0] + 4 > len(buf):
        raise EventFormatError(path, "IOHeader compression field out of range")
    comp = struct.unpack_from("<i", buf, fields[0])[0] if fields[0] else 0
    table_pos = -1
    if fields[1]:
        if fields[1] + 8 > len(buf):
            raise EventFormatError(path, "IOHeader dataTablePosition field out of range")
        table_pos = struct.unpack_from("<q", buf, fields[1])[0]
    info = ""
    if fields[2]:
        s = fields[2] + _fb_u32(buf, fields[2], path, "infoNode offset")
        ln = _fb_u32(buf, s, path, "infoNode length")
        if s + 4 + ln > len(buf):
            raise EventFormatError(path, "IOHeader infoNode string out of range")
        info = buf[s + 4:s + 4 + ln].decode("utf-8", errors="replace")
    return comp, table_pos, info


def _parse_info_node(info: str, path) -> dict[int, dict]:
    """Stream id -> {'type': 'EVTS', 'size': (H, W) or None} from the infoNode XML."""
    try:
        root = ET.fromstring(info)
    except ET.ParseError as exc:
        raise EventFormatError(path, f"AEDAT 4.0 infoNode is not XML: {exc}") from None
    streams = {}
    out_info = None
    for node in root.iter("node"):
        if node.get("name") == "outInfo":
            out_info = node
            break
    if out_info is None:
        raise EventFormatError(path, "AEDAT 4.0 infoNode has no 'outInfo' node")
    for s in out_info.findall("node"):
        try:
            sid = int(s.get("name", ""))
        except ValueError:
            raise EventFormatError(path, f"AEDAT 4.0 stream node name {s.get('name')!r} "
                                   "is not an integer id") from None
        attrs = {a.get("key"): (a.text or "") for a in s.findall("attr")}
        size = None
        info_n = s.find("node[@name='info']")
        if info_n is not None:
            ia = {a.get("key"): (a.text or "") for a in info_n.findall("attr")}
            if "sizeX" in ia and "sizeY" in ia:
                try:
                    size = (int(ia["sizeY"]), int(ia["sizeX"]))
                except ValueError:
                    raise EventFormatError(path, "AEDAT 4.0 sizeX/sizeY not integers") from None
        streams[sid] = {"type": attrs.get("typeIdentifier", ""), "size": size}
    return streams


def _decompress(kind: str, blob: bytes, path, pos):
    if kind == "none":
        return blob
    if kind in ("lz4", "lz4_high"):
        import lz4.frame
        try:
            return lz4.frame.decompress(blob)
        except Exception as exc:  # lz4 raises RuntimeError on corrupt frames
            raise EventFormatError(path, f"LZ4 frame does not decompress: {exc}",
                                   offset=pos) from None
    try:
        import zstandard
    except ImportError:
        raise EventFormatError(path, "zstd-compressed AEDAT 4.0 needs the 'zstandard' "
                               "package", offset=pos) from None
    try:
        return zstandard.ZstdDecompressor().decompress(blob, max_output_size=1 << 31)
    except Exception as exc:
        raise EventFormatError(path, f"zstd frame does not decompress: {exc}",
                               offset=pos) from None


def _read_aedat4(path, data: bytes, sensor_size, **policy) -> EventStream:
    if not data.startswith(AEDAT4_MAGIC):
        raise EventFormatError(path, "no '#!AER-DAT4.0\\r\\n' version line", offset=0)
    pos = len(AEDAT4_MAGIC)
    if len(data) < pos + 4:
        raise EventFormatError(path, "truncated before the IOHeader size", offset=pos)
    hsize = struct.unpack_from("<I", data, pos)[0]
    pos += 4
    if pos + hsize > len(data):
        raise EventFormatError(path, f"truncated IOHeader ({hsize} bytes announced)",
                               offset=pos)
    comp, table_pos, info_xml = _parse_ioheader(data[pos:pos + hsize], path)
    if comp not in AEDAT4_COMPRESSION:
        raise EventFormatError(path, f"unknown compression type {comp}", offset=pos)
    kind = AEDAT4_COMPRESSION[comp]
    streams = _parse_info_node(info_xml, path)
    ev_ids = [k for k, v in streams.items() if v["type"] == "EVTS"]
    if not ev_ids:
        raise EventFormatError(path, "no event stream (typeIdentifier EVTS) in the infoNode",
                               offset=pos)
    ev_id = ev_ids[0]
    if sensor_size is None:
        sensor_size = streams[ev_id]["size"]
        if sensor_size is None:
            raise EventFormatError(path, "event stream without sizeX/sizeY; pass sensor_size=")
    pos += hsize
    end = len(data) if table_pos < 0 else table_pos
    if end > len(data) or end < pos:
        raise EventFormatError(path, f"dataTablePosition {table_pos} outside the file",
                               offset=pos)
    parts = []
    info = {"compression": kind, "packets": 0, "other_stream_packets_skipped": 0}
    while pos < end:
        if end - pos < 8:
            raise EventFormatError(path, f"truncated packet header ({end - pos} of 8 bytes)",
                                   offset=pos)
        sid, size = struct.unpack_from("<iI", data, pos)
        if pos + 8 + size > end:
            raise EventFormatError(path, f"truncated packet: {size} bytes announced, "
                                   f"{end - pos - 8} left", offset=pos)
        if sid not in streams:
            raise EventFormatError(path, f"packet of unknown stream id {sid}", offset=pos)
        info["packets"] += 1
        if sid != ev_id:
            info["other_stream_packets_skipped"] += 1
            pos += 8 + size
            continue
        buf = _decompress(kind, data[pos + 8:pos + 8 + size], path, pos)
        try:
            parts.append(_parse_event_packet(buf, path))
        except EventFormatError as exc:
            raise EventFormatError(path, f"event packet: {exc.args[0].split(': ', 1)[-1]}",
                                   offset=pos) from None
        pos += 8 + size
    if parts:
        arr = np.concatenate(parts)
    else:
        arr = np.zeros(0, AEDAT4_EVENT_DTYPE)
    p = arr["p"]
    return _finalize(path, "aedat4", arr["x"], arr["y"], arr["t"], p, sensor_size, info,
                     **policy)


def _parse_event_packet(buf: bytes, path) -> np.ndarray:
    """Size-prefixed ``EventPacket`` flatbuffer -> array of AEDAT4_EVENT_DTYPE."""
    size = _fb_u32(buf, 0, path, "size prefix")
    if size + 4 > len(buf):
        raise EventFormatError(path, f"size prefix {size} larger than the packet")
    inner = memoryview(buf)[4:4 + size].tobytes()
    root = _fb_u32(inner, 0, path, "root")
    if inner[4:8] != b"EVTS":
        raise EventFormatError(path, f"file identifier {inner[4:8]!r} is not b'EVTS'")
    fields = _fb_table_fields(inner, root, path, "EventPacket")
    if not fields or not fields[0]:
        return np.zeros(0, AEDAT4_EVENT_DTYPE)
    vec = fields[0] + _fb_u32(inner, fields[0], path, "elements offset")
    n = _fb_u32(inner, vec, path, "elements length")
    if vec + 4 + 16 * n > len(inner):
        raise EventFormatError(path, f"elements vector of {n} events overruns the packet")
    arr = np.frombuffer(inner, dtype=AEDAT4_EVENT_DTYPE, count=n, offset=vec + 4)
    if n and arr["p"].max() > 1:
        raise EventFormatError(path, "polarity byte is not 0 or 1")
    return arr


def _fb_event_packet(events: np.ndarray) -> bytes:
    """Build a size-prefixed ``EventPacket`` flatbuffer (identifier 'EVTS')."""
    n = events.size
    inner = bytearray(32 + 16 * n)
    struct.pack_into("<I", inner, 0, 16)           # root -> table at 16
    inner[4:8] = b"EVTS"
    struct.pack_into("<HHH", inner, 8, 6, 8, 4)    # vtable: 6 bytes, object 8, field0 @4
    struct.pack_into("<iI", inner, 16, 16 - 8, 28 - 20)  # soffset to vtable; vector @28
    struct.pack_into("<I", inner, 28, n)
    arr = np.zeros(n, AEDAT4_EVENT_DTYPE)
    arr["t"], arr["x"], arr["y"], arr["p"] = events["t"], events["x"], events["y"], events["p"]
    inner[32:] = arr.tobytes()
    return struct.pack("<I", len(inner)) + bytes(inner)


def _fb_ioheader(compression: int, info_xml: str, table_pos: int = -1) -> bytes:
    s = info_xml.encode()
    buf = bytearray(48 + len(s) + 1 + 8)
    struct.pack_into("<I", buf, 0, 24)                       # root -> table at 24
    buf[4:8] = b"IOHE"
    struct.pack_into("<HHHHH", buf, 8, 10, 20, 4, 8, 16)     # vtable
    struct.pack_into("<iiqI", buf, 24, 24 - 8, compression, table_pos, 44 - 40)
    struct.pack_into("<I", buf, 44, len(s))
    buf[48:48 + len(s)] = s
    return bytes(buf)


def write_aedat4(path, events, *, sensor_size, compression: str = "lz4",
                 packet_events: int = 4096) -> None:
    """Write ``events`` as AEDAT 4.0 with one event stream (id 0) of
    ``sensor_size`` (H, W), packets of ``packet_events`` events, LZ4-framed
    (``compression='lz4'``), zstd-framed (``'zstd'``) or uncompressed (``'none'``).
    No data table (-1)."""
    codes = {"none": 0, "lz4": 1, "zstd": 3}
    if compression not in codes:
        raise ValueError(f"compression must be 'none', 'lz4' or 'zstd', got {compression!r}")
    H, W = sensor_size
    xml = ('<dv version="2.0"><node name="outInfo" path="/mainloop/Recorder/outInfo/">'
           '<node name="0" path="/mainloop/Recorder/outInfo/0/">'
           f'<attr key="compression" type="string">{compression.upper()}</attr>'
           '<attr key="originalModuleName" type="string">p2m</attr>'
           '<attr key="originalOutputName" type="string">events</attr>'
           '<attr key="typeDescription" type="string">Array of events</attr>'
           '<attr key="typeIdentifier" type="string">EVTS</attr>'
           '<node name="info" path="/mainloop/Recorder/outInfo/0/info/">'
           f'<attr key="sizeX" type="int">{W}</attr><attr key="sizeY" type="int">{H}</attr>'
           '<attr key="source" type="string">p2m-bench</attr></node></node></node></dv>')
    head = _fb_ioheader(codes[compression], xml)
    chunks = [AEDAT4_MAGIC, struct.pack("<I", len(head)), head]
    ev = np.asarray(events)
    for i in range(0, ev.size, packet_events):
        blob = _fb_event_packet(ev[i:i + packet_events])
        if compression == "lz4":
            import lz4.frame
            blob = lz4.frame.compress(blob)
        elif compression == "zstd":
            import zstandard
            blob = zstandard.ZstdCompressor().compress(blob)
        chunks.append(struct.pack("<iI", 0, len(blob)))
        chunks.append(blob)
    Path(path).write_bytes(b"".join(chunks))


# --------------------------------------------------------------------------------------
# .npy / .npz
# --------------------------------------------------------------------------------------

def _infer_size(path, x, y, sensor_size, info):
    if sensor_size is not None:
        return sensor_size
    if len(x) == 0:
        raise EventFormatError(path, "empty event array without a sensor size; pass sensor_size=")
    info["sensor_size_inferred"] = True
    return (int(np.max(y)) + 1, int(np.max(x)) + 1)


def _int_column(path, name, a):
    a = np.asarray(a)
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
            raise EventFormatError(path, f"field {name!r} has non-integer values")
        return a.astype(np.int64)
    if a.dtype.kind == "b":
        return a.astype(np.int64)
    if a.dtype.kind not in "iu":
        raise EventFormatError(path, f"field {name!r} has dtype {a.dtype}, not numeric")
    return a.astype(np.int64)


def _read_npy(path, data: bytes, sensor_size, **policy) -> EventStream:
    try:
        arr = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as exc:  # numpy raises many types for a corrupt .npy
        raise EventFormatError(path, f"not a readable .npy array: {exc}", offset=0) from None
    info = {}
    if arr.dtype.names and any(arr.dtype[k].shape for k in arr.dtype.names):
        raise EventFormatError(path, "structured array with sub-array fields")
    if arr.dtype.names:
        missing = {"x", "y", "t", "p"} - set(arr.dtype.names)
        if missing:
            raise EventFormatError(path, f"structured array lacks fields {sorted(missing)}")
        x, y, t, p = (_int_column(path, k, arr[k]) for k in "xytp")
        if arr.ndim != 1:
            raise EventFormatError(path, f"structured array must be 1-D, got shape {arr.shape}")
    elif arr.ndim == 2 and arr.shape[1] == 4:
        # tonic's DVSGesture .npy: columns x, y, p, t in milliseconds (float)
        x = _int_column(path, "x", arr[:, 0])
        y = _int_column(path, "y", arr[:, 1])
        p = _int_column(path, "p", arr[:, 2])
        tm = np.asarray(arr[:, 3], dtype=np.float64)
        if not np.all(np.isfinite(tm)):
            raise EventFormatError(path, "non-finite timestamps")
        t = np.rint(tm * 1000.0).astype(np.int64)
        info["layout"] = "tonic_dvsgesture_xypt_ms"
    else:
        raise EventFormatError(path, f"expected a structured x/y/t/p array or an (N, 4) "
                               f"[x, y, p, t_ms] array, got dtype {arr.dtype} shape {arr.shape}")
    sensor_size = _infer_size(path, x, y, sensor_size, info)
    return _finalize(path, "npy", x, y, t, p, sensor_size, info, **policy)


def _read_npz(path, data: bytes, sensor_size, **policy) -> EventStream:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            keys = set(z.files)
            missing = {"x", "y", "t", "p"} - keys
            if missing:
                raise EventFormatError(path, f".npz lacks arrays {sorted(missing)} "
                                       f"(has {sorted(keys)})")
            cols = {k: z[k] for k in "xytp"}
            stored = z["sensor_size"] if "sensor_size" in keys else None
    except EventFormatError:
        raise
    except Exception as exc:  # zipfile/zlib/numpy raise many types for a corrupt .npz
        raise EventFormatError(path, f"not a readable .npz archive: {exc}", offset=0) from None
    lens = {k: np.asarray(v).shape for k, v in cols.items()}
    if len({s for s in lens.values()}) != 1 or len(next(iter(lens.values()))) != 1:
        raise EventFormatError(path, f"x, y, t, p must be 1-D arrays of one length, got {lens}")
    x, y, t, p = (_int_column(path, k, cols[k]) for k in "xytp")
    info = {}
    if sensor_size is None and stored is not None:
        s = np.asarray(stored).ravel()
        if s.size != 2 or s.dtype.kind not in "iu":
            raise EventFormatError(path, f"sensor_size entry must be two integers, got {stored!r}")
        sensor_size = (int(s[0]), int(s[1]))
    sensor_size = _infer_size(path, x, y, sensor_size, info)
    return _finalize(path, "npz", x, y, t, p, sensor_size, info, **policy)


def write_npz(path, events, sensor_size, *, compressed: bool = True) -> None:
    """Write ``events`` as ``.npz`` with arrays x, y, t, p (SpikingJelly's keys) and
    ``sensor_size`` (H, W)."""
    ev = np.asarray(events)
    save = np.savez_compressed if compressed else np.savez
    with open(path, "wb") as f:
        save(f, x=ev["x"], y=ev["y"], t=ev["t"], p=ev["p"],
             sensor_size=np.asarray(sensor_size, dtype=np.int64))


def write_npy(path, events) -> None:
    """Write ``events`` as a structured ``.npy`` (fields x, y, t, p)."""
    with open(path, "wb") as f:
        np.save(f, np.asarray(events, dtype=EVENT_DTYPE), allow_pickle=False)


# --------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------

_READERS = {"nmnist": _read_nmnist, "aedat2": _read_aedat2, "aedat3": _read_aedat3,
            "aedat4": _read_aedat4, "npy": _read_npy, "npz": _read_npz}


def read_events(path, format: str | None = None, *, sensor_size=None, sort: bool = False,
                out_of_range: str = "error", time_tolerance_us: int = 0,
                address_map: str = "jaer") -> EventStream:
    """Read an event file into an :class:`EventStream` (events, sensor size (H, W)).

    Arguments:
        path: the file.
        format: one of :data:`FORMATS`; ``None`` detects it from content and extension.
        sensor_size: (H, W) pixels, overriding the format's default / the file's value.
        sort: fix-up policy: stable-sort events that go backwards in time (the count of
            moved events is ``info['sorted_moved_events']``); otherwise a backward step
            larger than ``time_tolerance_us`` is an error.
        out_of_range: 'error' (default), 'clip' or 'drop' events outside the sensor
            (counted in ``info['clipped_out_of_range']`` / ``info['dropped_out_of_range']``).
        time_tolerance_us: backward steps up to this many microseconds are fixed by a
            stable sort (and counted) instead of raising.
        address_map: AEDAT 2.0 only: 'jaer', 'cifar10dvs' or 'raw' (see
            :data:`AEDAT2_ADDRESS_MAPS`).

    Raises :class:`EventFormatError` (a ValueError) for malformed files, naming the
    file and the byte offset or event index; ``FileNotFoundError`` if it is absent.
    """
    path = Path(os.fspath(path))
    if format is None:
        format = detect_format(path)
    if format not in _READERS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    if sensor_size is not None:
        sensor_size = (int(sensor_size[0]), int(sensor_size[1]))
    data = path.read_bytes()
    policy = {"sort": sort, "out_of_range": out_of_range,
              "time_tolerance_us": int(time_tolerance_us)}
    if format == "aedat2":
        return _read_aedat2(path, data, sensor_size, address_map=address_map, **policy)
    return _READERS[format](path, data, sensor_size, **policy)


def write_events(path, events, sensor_size, format: str | None = None) -> None:
    """Write ``events`` in ``format`` (default from the extension: .bin -> nmnist,
    .npz, .npy, .aedat -> aedat2, .aedat4 -> aedat4)."""
    path = Path(path)
    if format is None:
        format = {**_EXT_FORMAT, ".aedat": "aedat2"}.get(path.suffix.lower())
    if format == "nmnist":
        write_nmnist_bin(path, events)
    elif format == "npz":
        write_npz(path, events, sensor_size)
    elif format == "npy":
        write_npy(path, events)
    elif format == "aedat2":
        write_aedat2(path, events)
    elif format == "aedat3":
        write_aedat31(path, events, sensor_size=sensor_size)
    elif format == "aedat4":
        write_aedat4(path, events, sensor_size=sensor_size)
    else:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r} for {path}")
