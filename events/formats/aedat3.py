"""AEDAT 3.1 (cAER; DVS128 Gesture raw), and DVS128 Gesture's labels CSV.

``#`` header lines up to ``#!END-HEADER``, then packets with a 28-byte header;
polarity events of 8 bytes, a 31-bit timestamp plus the packet's overflow counter
(``docs/events.md`` has the layout and its sources). :func:`read_gesture_labels` and
:func:`split_by_labels` cut a DVS128 Gesture recording into its labelled segments.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np

from events.stream import (
    DVS128_SENSOR,
    EventFormatError,
    EventStream,
    _finalize,
    _skip_header_lines,
)

AEDAT3_MAGIC = b"#!AER-DAT3.1"
AEDAT3_PACKET_HEADER = struct.Struct("<hhiiiiii")  # 28 bytes, little-endian
AEDAT3_POLARITY_EVENT = 1


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

