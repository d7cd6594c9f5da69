"""AEDAT 2.0 (jAER, DVS128; CIFAR10-DVS raw).

A ``#!AER-DAT2.0`` version line and further ``#`` header lines, then big-endian
int32 address + int32 timestamp (microseconds; 32-bit wraps unwrapped) per event. How
(x, y, p) come from the address bits depends on who recorded the file: see
:data:`AEDAT2_ADDRESS_MAPS` (``docs/events.md`` has the layout and its sources).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from events.stream import (
    DVS128_SENSOR,
    EventFormatError,
    EventStream,
    _finalize,
    _skip_header_lines,
)

AEDAT2_MAGIC = b"#!AER-DAT2.0"
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
              b"# created by p2m-bench events.write_aedat2\r\n")
    Path(path).write_bytes(header + out.tobytes())
