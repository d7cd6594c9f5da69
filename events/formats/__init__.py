"""One module per event-file format, each owning its reader and its writer.

========================= =============================================================
:mod:`.nmnist`            N-MNIST / N-Caltech101 ATIS ``.bin`` (and ``.bs2``)
:mod:`.aedat2`            AEDAT 2.0 (jAER, DVS128; CIFAR10-DVS raw)
:mod:`.aedat3`            AEDAT 3.1 (cAER; DVS128 Gesture raw) and the Gesture labels CSV
:mod:`.aedat4`            AEDAT 4.0 (iniVation DV), LZ4/zstd-framed packets
:mod:`.numpy_io`          ``.npy`` / ``.npz``
========================= =============================================================

A reader ``_read_<format>(path, data, sensor_size, **policy)`` parses the bytes of one
file and hands the raw columns to :func:`events.stream._finalize`;
:func:`events.read_events` picks the reader.
"""
