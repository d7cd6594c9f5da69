"""Framing event streams into T windows of ON/OFF counts, and cached dataset framing.

``frame_events(events, sensor_size, T)`` returns a ``(T, 2, H, W)`` count array
(channel 0 = OFF, 1 = ON). Windows:

* ``split_by='time'`` with ``window_us`` given (what the chip does: a window is the
  integration time): window k covers ``[t_start + k*window_us, t_start + (k+1)*window_us)``
  microseconds, ``t_start`` defaulting to 0 (the recording's time origin); events
  outside the T windows are not counted (``return_outside=True`` returns how many).
  **Use this for anything compared with the RTL.**
* ``split_by='time'`` without ``window_us``: SpikingJelly's
  ``split_by='time'``: ``dt = (t_last - t_first) // T``, window k is
  ``[t_first + k*dt, t_first + (k+1)*dt)``, and the last window runs to the last event.
* ``split_by='number'``: SpikingJelly's ``split_by='number'``: ``N // T`` events per
  window, the last window takes the remainder.

``frame_dataset`` frames a whole dataset once, with a tqdm progress bar, and caches
the result under ``$P2M_CACHE_DIR`` (default ``~/.cache/p2m-bench``) in a file named
by a hash of the dataset identity and the framing parameters.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

SPLIT_BY = ("time", "number")
_FRAMING_VERSION = 1


def cache_dir() -> Path:
    """The on-disk cache folder: ``$P2M_CACHE_DIR`` or ``~/.cache/p2m-bench``."""
    d = os.environ.get("P2M_CACHE_DIR")
    return Path(d).expanduser() if d else Path.home() / ".cache" / "p2m-bench"


def window_bounds(t: np.ndarray, T: int, *, split_by: str = "time", window_us=None,
                  t_start=None) -> np.ndarray:
    """Event-index bounds of the T windows: window k holds events ``b[k]:b[k+1]``.

    ``t`` is the time-ordered int64 timestamp array (us). Returns int64 (T + 1,)."""
    if not isinstance(T, (int, np.integer)) or T < 1:
        raise ValueError(f"T must be a positive integer, got {T!r}")
    if split_by not in SPLIT_BY:
        raise ValueError(f"split_by must be one of {SPLIT_BY}, got {split_by!r}")
    n = t.size
    if split_by == "number":
        if window_us is not None:
            raise ValueError("window_us applies to split_by='time' only")
        di = n // T
        b = np.arange(T + 1, dtype=np.int64) * di
        b[-1] = n
        return b
    if window_us is not None:
        if window_us <= 0:
            raise ValueError(f"window_us must be > 0, got {window_us!r}")
        t0 = 0 if t_start is None else int(t_start)
        edges = t0 + np.arange(T + 1, dtype=np.int64) * int(window_us)
        return np.searchsorted(t, edges, side="left").astype(np.int64)
    if n == 0:
        return np.zeros(T + 1, np.int64)
    t0 = int(t[0]) if t_start is None else int(t_start)
    dt = (int(t[-1]) - t0) // T
    edges = t0 + np.arange(T + 1, dtype=np.int64) * dt
    b = np.searchsorted(t, edges, side="left").astype(np.int64)
    b[-1] = n
    return b


def frame_events(events: np.ndarray, sensor_size, T: int, *, split_by: str = "time",
                 window_us=None, t_start=None, dtype=np.uint16, return_outside: bool = False):
    """Count events into ``(T, 2, H, W)`` frames (see the module docstring for windows).

    ``events``: structured array with x, y, t (us), p (0/1), time-ordered.
    ``sensor_size``: (H, W) pixels. ``dtype``: output dtype (counts saturate at its max).
    Returns the frames, or (frames, n_outside) with ``return_outside``."""
    H, W = int(sensor_size[0]), int(sensor_size[1])
    t = events["t"]
    b = window_bounds(t, T, split_by=split_by, window_us=window_us, t_start=t_start)
    lo, hi = int(b[0]), int(b[-1])
    seg = events[lo:hi]
    k = np.repeat(np.arange(0, 2 * T, 2, dtype=np.int64), np.diff(b))
    k += seg["p"]
    k *= H
    k += seg["y"]
    k *= W
    k += seg["x"]
    counts = np.bincount(k, minlength=T * 2 * H * W)
    if np.issubdtype(dtype, np.integer) and seg.size > np.iinfo(dtype).max:
        counts = np.minimum(counts, np.iinfo(dtype).max)  # saturate, do not wrap
    frames = counts.astype(dtype, copy=False).reshape(T, 2, H, W)
    if return_outside:
        return frames, int(events.size - (hi - lo))
    return frames


def framing_key(dataset, T: int, split_by: str, window_us, t_start) -> str:
    """A hash naming the cached frames of ``dataset`` for these parameters."""
    payload = {"dataset": dataset.cache_key(), "T": int(T), "split_by": split_by,
               "window_us": None if window_us is None else int(window_us),
               "t_start": None if t_start is None else int(t_start),
               "version": _FRAMING_VERSION}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]


def frame_dataset(dataset, T: int, *, split_by: str = "time", window_us=None, t_start=None,
                  cache: bool = True, progress: bool = True, dtype=np.uint16):
    """Frame every sample of ``dataset`` (an :class:`events.datasets.EventDataset`).

    Returns ``(frames, labels)``: frames (N, T, 2, H, W) ``dtype`` counts and labels
    (N,) int64. With ``cache`` the arrays are stored as ``.npy`` under
    :func:`cache_dir` / ``frames`` keyed by :func:`framing_key` and re-used (memory
    mapped, read-only) on later calls."""
    key = framing_key(dataset, T, split_by, window_us, t_start)
    d = cache_dir() / "frames"
    fpath = d / f"{type(dataset).__name__}_{key}_frames.npy"
    lpath = d / f"{type(dataset).__name__}_{key}_labels.npy"
    if cache and fpath.exists() and lpath.exists():
        return np.load(fpath, mmap_mode="r"), np.load(lpath)
    from tqdm.auto import tqdm

    H, W = dataset.sensor_size
    n = len(dataset)
    frames = np.zeros((n, T, 2, H, W), dtype=dtype)
    labels = np.zeros(n, dtype=np.int64)
    it = range(n)
    if progress:
        it = tqdm(it, desc=f"framing {type(dataset).__name__} (T={T}, {split_by})",
                  unit="sample")
    for i in it:
        ev, label = dataset[i]
        frames[i] = frame_events(ev, (H, W), T, split_by=split_by, window_us=window_us,
                                 t_start=t_start, dtype=dtype)
        labels[i] = label
    if cache:
        d.mkdir(parents=True, exist_ok=True)
        for path, arr in ((fpath, frames), (lpath, labels)):
            tmp = path.with_suffix(f".tmp{os.getpid()}.npy")
            np.save(tmp, arr)
            os.replace(tmp, path)
    return frames, labels


class FramedDataset:
    """A dataset of framed samples: ``ds[i] -> (frames (T, 2, H, W) float32, label)``,
    framed once through :func:`frame_dataset` (cached). Usable as a torch Dataset."""

    def __init__(self, dataset, T: int, *, split_by: str = "time", window_us=None,
                 t_start=None, cache: bool = True, progress: bool = True):
        self.dataset = dataset
        self.T = T
        self.frames, self.labels = frame_dataset(dataset, T, split_by=split_by,
                                                 window_us=window_us, t_start=t_start,
                                                 cache=cache, progress=progress)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i):
        return np.asarray(self.frames[i], dtype=np.float32), int(self.labels[i])
