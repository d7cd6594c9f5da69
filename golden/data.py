"""Datasets for the golden model: which samples form train / val / test, and their framing.

``open_split(kind, data_dir, split)`` returns an :class:`events.datasets.EventDataset` of
one split; :class:`FramedSplit` frames it into window counts on the chip's window grid
(``window_us`` per window from t = 0, T windows: :func:`events.framing.frame_events`
with ``window_us``, the framing to use for anything compared with the chip).

Splits (the dataset's own where it has one; ``val`` is always the paper's seeded 9:1
train/validation split of the training part, Kaiser et al. 2024 Sec. 5):

| kind | train + val | test |
|---|---|---|
| ``default`` | the built-in emulated digits' ``train`` split (80 %) | its ``test`` split (20 %, 359 samples) |
| ``nmnist`` (full dataset) | ``Train`` (60,000) | ``Test`` (10,000) |
| ``nmnist`` (``nmnist-small`` layout) | 900 recordings | a fixed, seeded, stratified hold-out of 100 |
| ``gesture`` | the archive's ``trials_to_train`` | ``trials_to_test`` |
| ``cifar10dvs`` (no official split) | 90 % | a seeded, stratified 10 % |

Default framing per kind (``DEFAULT_FRAMING``): N-MNIST-sized data (about 300 ms, three
saccades) in T = 10 windows of 32 ms; DVS128 Gesture (about 6 s) 16 x 400 ms;
CIFAR10-DVS (about 1.3 s) 10 x 130 ms.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from events.datasets import CIFAR10DVS, NMNIST, DVSGesture, EventDataset, train_val_split
from events.default_dataset import DefaultDigits
from events.framing import FramedDataset

KINDS = ("default", "nmnist", "gesture", "cifar10dvs")
SPLITS = ("train", "val", "test")
#: Seed of the 9:1 train/validation split and of the hold-outs (nmnist-small, cifar10dvs).
SPLIT_SEED = 0
#: (T, window_us) per dataset kind (see the module docstring).
DEFAULT_FRAMING = {"default": (10, 32_000), "nmnist": (10, 32_000),
                   "gesture": (16, 400_000), "cifar10dvs": (10, 130_000)}
CLASSES = {"default": 10, "nmnist": 10, "gesture": 11, "cifar10dvs": 10}


def _holdout(ds: EventDataset, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """(rest, held out) indices: a seeded, stratified hold-out of ``fraction``."""
    return train_val_split(ds, fraction, SPLIT_SEED)


def open_split(kind: str, data_dir: str | Path | None, split: str) -> EventDataset:
    """The samples of ``split`` (``train``/``val``/``test``) of dataset ``kind``.

    ``data_dir`` is required for every kind but ``default``; a folder in no known layout
    is a ``FileNotFoundError`` naming it and ``docs/events.md``."""
    if kind not in KINDS:
        raise ValueError(f"dataset: must be one of {KINDS}, got {kind!r}")
    if split not in SPLITS:
        raise ValueError(f"split: must be one of {SPLITS}, got {split!r}")
    if kind == "default":
        trainval = DefaultDigits(split="train", progress=True)
        test = None if split != "test" else DefaultDigits(split="test", progress=True)
    else:
        if data_dir is None:
            raise ValueError(f"--data: dataset {kind!r} needs the folder that holds it")
        root = Path(data_dir)
        if not root.is_dir():
            raise FileNotFoundError(f"--data {root}: no such folder")
        if kind == "nmnist":
            full = NMNIST(root, train=True)
            if full.layout == "nmnist-small":  # train only: hold out 100 for the test
                rest, held = _holdout(full, 0.1)
                trainval, test = full.subset(rest), full.subset(held)
            else:
                trainval = full
                test = NMNIST(root, train=False) if split == "test" else None
        elif kind == "gesture":
            trainval = DVSGesture(root, train=True)
            test = DVSGesture(root, train=False) if split == "test" else None
        else:
            full = CIFAR10DVS(root)
            rest, held = _holdout(full, 0.1)
            trainval, test = full.subset(rest), full.subset(held)
    if split == "test":
        return test
    tr, va = train_val_split(trainval, 0.1, SPLIT_SEED)
    return trainval.subset(tr if split == "train" else va)


@dataclass
class FramedSplit:
    """One split framed on the chip's window grid: ``counts`` (N, T, P, H, W) uint16
    (memory-mapped from the cache), ``labels`` (N,), the event dataset it came from."""

    dataset: EventDataset
    counts: np.ndarray
    labels: np.ndarray
    T: int
    window_us: int

    @classmethod
    def build(cls, dataset: EventDataset, T: int, window_us: int,
              progress: bool = True) -> FramedSplit:
        fd = FramedDataset(dataset, T, split_by="time", window_us=window_us, t_start=0,
                           progress=progress)
        return cls(dataset, fd.frames, fd.labels, T, window_us)

    def __len__(self) -> int:
        return len(self.labels)

    def input_events(self) -> np.ndarray:
        """Events inside the T windows per sample (N,), int64: the bandwidth's denominator."""
        n = len(self)
        flat = self.counts.reshape(n, -1)
        return np.concatenate([flat[i:i + 256].sum(1, dtype=np.int64) for i in range(0, n, 256)]
                              or [np.zeros(0, np.int64)])
