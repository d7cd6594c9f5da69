"""The event data layer: event-camera file readers and writers, datasets, framing.

``read_events(path)`` reads one recording into an :class:`EventStream`: a numpy
structured array ``events`` with fields ``x, y`` (uint16 pixel column / row),
``t`` (int64, microseconds) and ``p`` (uint8, 0 = OFF, 1 = ON), in time order, plus
the sensor size ``(H, W)`` in pixels. ``events, sensor_size = read_events(path)``
unpacks it.

Formats (detected from the content first, then the extension; ``docs/events.md``
has the byte layouts and their sources), one module of :mod:`events.formats` each:

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
           package's writer, which adds ``sensor_size``)
========== ====================================================================

Malformed input raises :class:`EventFormatError` (a ``ValueError``) naming the file
and the byte offset or event index. Nothing is dropped or reordered silently: the
fix-up policies (``sort``, ``out_of_range='clip'|'drop'``) are explicit arguments and
what they changed is counted in ``EventStream.info``; records that the format itself
says are not events (N-MNIST overflow markers, AEDAT 2.0 special/external events,
AEDAT 3.1 invalid-marked events, non-polarity packets) are counted there too.

Modules: :mod:`events.stream` (the record dtype, :class:`EventStream`, the error type,
sensor sizes, the shared validation and fix-up policies), :mod:`events.formats` (one
reader/writer module per format), :mod:`events.readers` (:func:`read_events`,
:func:`write_events`, :func:`detect_format`), :mod:`events.datasets` (N-MNIST, DVS128
Gesture, CIFAR10-DVS in the on-disk layouts users already have), :mod:`events.framing`
(T-window count frames, cached), :mod:`events.default_dataset` (the built-in emulated
digits dataset) and :mod:`events.cli` (``p2m events ...``). This package imports
nothing else of the project and never imports torch.
"""

from events.formats.aedat2 import (
    AEDAT2_ADDRESS_MAPS,
    AEDAT2_MAGIC,
    AEDAT2_SPECIAL_BIT,
    AEDAT2_SPECIAL_MASK,
    AEDAT2_TS_RANGE,
    write_aedat2,
)
from events.formats.aedat3 import (
    AEDAT3_MAGIC,
    AEDAT3_PACKET_HEADER,
    AEDAT3_POLARITY_EVENT,
    read_gesture_labels,
    split_by_labels,
    write_aedat31,
)
from events.formats.aedat4 import (
    AEDAT4_COMPRESSION,
    AEDAT4_EVENT_DTYPE,
    AEDAT4_MAGIC,
    write_aedat4,
)
from events.formats.nmnist import NMNIST_OVERFLOW_US, NMNIST_OVERFLOW_Y, write_nmnist_bin
from events.formats.numpy_io import write_npy, write_npz
from events.readers import FORMATS, detect_format, read_events, write_events
from events.stream import (
    DVS128_SENSOR,
    EVENT_DTYPE,
    NMNIST_SENSOR,
    OUT_OF_RANGE_POLICIES,
    EventFormatError,
    EventStream,
    make_events,
)

__all__ = [
    "AEDAT2_ADDRESS_MAPS", "AEDAT2_MAGIC", "AEDAT2_SPECIAL_BIT", "AEDAT2_SPECIAL_MASK",
    "AEDAT2_TS_RANGE", "AEDAT3_MAGIC", "AEDAT3_PACKET_HEADER", "AEDAT3_POLARITY_EVENT",
    "AEDAT4_COMPRESSION", "AEDAT4_EVENT_DTYPE", "AEDAT4_MAGIC", "DVS128_SENSOR",
    "EVENT_DTYPE", "FORMATS", "NMNIST_OVERFLOW_US", "NMNIST_OVERFLOW_Y", "NMNIST_SENSOR",
    "OUT_OF_RANGE_POLICIES", "EventFormatError", "EventStream", "detect_format",
    "make_events", "read_events", "read_gesture_labels", "split_by_labels", "write_aedat2",
    "write_aedat31", "write_aedat4", "write_events", "write_npy", "write_npz",
    "write_nmnist_bin",
]
