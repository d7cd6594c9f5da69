"""Reading and writing event files in any supported format: :func:`read_events`,
:func:`write_events` and :func:`detect_format` (content first, then the extension).

The readers and writers themselves live in :mod:`events.formats`, one module per format.
"""

from __future__ import annotations

import os
from pathlib import Path

from events.formats.aedat2 import AEDAT2_MAGIC, _read_aedat2, write_aedat2
from events.formats.aedat3 import AEDAT3_MAGIC, _read_aedat3, write_aedat31
from events.formats.aedat4 import AEDAT4_MAGIC, _read_aedat4, write_aedat4
from events.formats.nmnist import _read_nmnist, write_nmnist_bin
from events.formats.numpy_io import _read_npy, _read_npz, write_npy, write_npz
from events.stream import EventFormatError, EventStream

#: The format names :func:`read_events` and :func:`write_events` take.
FORMATS = ("nmnist", "aedat2", "aedat3", "aedat4", "npy", "npz")

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
