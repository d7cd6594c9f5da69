"""The in-memory event stream: the record dtype, :class:`EventStream`, the error type,
sensor sizes, and the validation and fix-up policies every reader shares.

An event stream is a numpy structured array ``events`` with fields ``x, y`` (uint16
pixel column / row), ``t`` (int64, microseconds) and ``p`` (uint8, 0 = OFF, 1 = ON), in
time order, plus the sensor size ``(H, W)`` in pixels. The readers of
:mod:`events.formats` turn a file's records into raw columns and hand them to
:func:`_finalize`, which checks coordinates, polarity and time order, applies the
explicit fix-up policies (``sort``, ``out_of_range='clip'|'drop'``), counts what they
changed in ``EventStream.info`` and packs the result.

Malformed input raises :class:`EventFormatError` (a ``ValueError``) naming the file
and the byte offset or event index.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

#: The in-memory event record: x = column, y = row (pixels), t in microseconds, p 0/1.
EVENT_DTYPE = np.dtype([("x", "<u2"), ("y", "<u2"), ("t", "<i8"), ("p", "u1")])

#: The ``out_of_range`` policies of :func:`events.read_events`.
OUT_OF_RANGE_POLICIES = ("error", "clip", "drop")

#: N-MNIST sensor (ATIS crop), pixels (H, W). Orchard et al. 2015, Front. Neurosci. 9:437.
NMNIST_SENSOR = (34, 34)
#: DVS128 sensor (H, W): CIFAR10-DVS (Li et al. 2017) and DVS128 Gesture (Amir et al. 2017).
DVS128_SENSOR = (128, 128)


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
# Header lines (shared by the AEDAT 2.0 and 3.1 readers)
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

