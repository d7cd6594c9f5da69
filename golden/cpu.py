"""CPU run settings of the golden model.

A training step allocates and frees hundreds of tensors of 1-20 MB (the first layer's
per-window state, its saved tensors, the backend's activations). glibc's malloc serves
each of them with a fresh ``mmap`` and returns it on free, so every step faults its pages
in again; on the bench's virtual machines that fault cost dominated the ``fitted`` layer's
elementwise time (layer forward + backward 215-239 ms against 181-187 ms with the heap kept,
measured side by side, batch 32, one thread).
"""

from __future__ import annotations

import ctypes
import platform

#: glibc's ``mallopt`` parameters (malloc.h)
M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
MMAP_THRESHOLD = 32 * 2**20  # bytes: glibc's largest (HEAP_MAX_SIZE / 2 on 64-bit)
TRIM_THRESHOLD = 2**30  # bytes of free heap kept before it is returned to the system
TOP_PAD = 256 * 2**20  # bytes the heap grows by at a time

_tuned: bool | None = None


def keep_heap() -> bool:
    """Serve allocations up to 32 MiB from the heap and keep up to 1 GiB of freed heap
    (glibc ``mallopt``), once per process; the process may then hold that much more
    memory than it uses. Returns whether the settings are in force (False on a C library
    other than glibc: nothing changes)."""
    global _tuned
    if _tuned is None:
        _tuned = False
        if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
            try:
                libc = ctypes.CDLL("libc.so.6")
                _tuned = all(libc.mallopt(p, v) == 1 for p, v in (
                    (M_MMAP_THRESHOLD, MMAP_THRESHOLD), (M_TRIM_THRESHOLD, TRIM_THRESHOLD),
                    (M_TOP_PAD, TOP_PAD)))
            except (OSError, AttributeError):
                _tuned = False
    return _tuned
