"""N-MNIST / N-Caltech101 ATIS ``.bin`` (also the ``.bs2`` of the nmnist-small subset).

5-byte big-endian events: x (8 bits), y (8 bits), polarity (1 bit), timestamp (23 bits,
microseconds). An event with y == 240 is a timestamp overflow marker: +2^13 us for all
later events (Orchard et al. 2015, Front. Neurosci. 9:437; ``docs/events.md`` has the
layout and its sources).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from events.stream import NMNIST_SENSOR, EventFormatError, EventStream, _finalize

#: N-MNIST overflow marker: an event with y == 240 adds 2^13 us to all later timestamps
#: (Orchard's eventvision.py reader and tonic's read_mnist_file do the same).
NMNIST_OVERFLOW_Y = 240
NMNIST_OVERFLOW_US = 1 << 13


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
