"""Comparator flags of an event sample for the benchmarks: an ideal first layer (numpy).

:func:`sample_flags` turns one event recording into the latched comparator flags of each
integration window, the way the chip's first layer would: per window the events of each
pixel and polarity are counted, convolved with seeded random weights (N_CH x N_POL x K x K,
uniform in [-1, 1]) at stride 2, added to a non-volatile membrane, and a neuron whose
membrane reaches the threshold spikes and is reset to 0. It is a stimulus of the right
geometry, duration and sparsity for speed measurements, not the golden model.

:func:`nmnist_sample` reads one real N-MNIST recording from ``P2M_NMNIST_DIR`` when present,
else emulates one (events.default_dataset, the built-in digits).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from tb.config import Geometry


def nmnist_sample(index: int = 0) -> tuple[np.ndarray, tuple[int, int], str]:
    """(events, sensor (H, W), source) of one N-MNIST-sized recording (34 x 34, ~300 ms)."""
    from events import read_events

    root = Path(os.environ.get("P2M_NMNIST_DIR", "")) / "train"
    files = sorted(root.glob("*.bs2"), key=lambda p: p.name) if root.is_dir() else []
    if files:
        f = files[index % len(files)]
        ev, size = read_events(f)
        return ev, tuple(size), str(f)
    from events.default_dataset import default_samples

    events, _labels = default_samples(n=1, seed=index)
    return events[0], (34, 34), "events.default_dataset (emulated)"


def sample_flags(events: np.ndarray, sensor: tuple[int, int], geo: Geometry, window_us: int,
                 n_windows: int, threshold: float = 2.5, seed: int = 0) -> np.ndarray:
    """Flags (n_windows, N_CH, N_NEUR) bool of ``events`` (fields x, y, t [us], p)."""
    rng = np.random.default_rng(seed)
    k, s = geo.ksize, 2
    w = rng.uniform(-1.0, 1.0, size=(geo.n_ch, geo.n_pol, k, k))
    h, wd = sensor
    t0 = int(events["t"].min()) if events.size else 0
    win = ((events["t"].astype(np.int64) - t0) // window_us).astype(np.int64)
    keep = win < n_windows
    counts = np.zeros((n_windows, geo.n_pol, h, wd))
    np.add.at(counts, (win[keep], events["p"][keep].astype(np.int64) % geo.n_pol,
                       events["y"][keep].astype(np.int64), events["x"][keep].astype(np.int64)), 1)
    oh, ow = geo.out_h, geo.out_w
    v = np.zeros((geo.n_ch, oh, ow))
    out = np.zeros((n_windows, geo.n_ch, oh * ow), bool)
    for i in range(n_windows):
        drive = np.zeros((geo.n_ch, oh, ow))
        for ky in range(k):
            for kx in range(k):
                patch = counts[i, :, ky:ky + s * (oh - 1) + 1:s, kx:kx + s * (ow - 1) + 1:s]
                drive += np.einsum("cp,pyx->cyx", w[:, :, ky, kx], patch[:, :oh, :ow])
        v = np.maximum(v + drive, 0.0)
        spk = v >= threshold
        v[spk] = 0.0
        out[i] = spk.reshape(geo.n_ch, -1)
    return out
