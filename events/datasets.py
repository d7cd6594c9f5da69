"""Event-camera datasets: N-MNIST, DVS128 Gesture, CIFAR10-DVS (and the base class).

Each class reads the on-disk layouts users already have (``docs/events.md`` lists
them): the original archives, tonic's ``save_to`` folders, SpikingJelly's ``root``
folders (``extract/`` raw files or ``events_np/`` npz files), plus, for N-MNIST, the
``nmnist-small`` subset (``train/<n>.bs2`` + ``train-labels.txt``). SpikingJelly's
frame folders (``frames_number_*``) are not read: frame the events with
:mod:`events.framing` instead.

``ds[i] -> (events, label)`` with events a structured array (x, y, t us, p 0/1) and
``ds.sensor_size = (H, W)``. The fix-up policies of :func:`events.read_events`
(``sort``, ``out_of_range``, ``time_tolerance_us``; default: every anomaly is an error)
are keyword arguments of each dataset class and apply to every file it reads. ``train_val_split(ds)`` is the paper's seeded 9:1
train/validation split (stratified per class). None of this imports torchvision or
spikingjelly.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from events.formats.aedat3 import read_gesture_labels, split_by_labels
from events.readers import read_events
from events.stream import DVS128_SENSOR, NMNIST_SENSOR, OUT_OF_RANGE_POLICIES, EventStream


def _natural_key(name: str):
    return [int(s) if s.isdigit() else s for s in re.split(r"(\d+)", name)]


@dataclass(frozen=True)
class Sample:
    """One sample: its file, class label and (DVS Gesture raw) the labels-CSV row."""

    path: str
    label: int
    segment: int = -1


class EventDataset:
    """Base class: a list of :class:`Sample` plus a reader.

    Subclasses set ``sensor_size`` (H, W), ``classes`` and ``samples``, and
    ``layout`` (which on-disk layout was found). ``read_kwargs`` are passed to every
    :func:`events.read_events` call (:meth:`_set_policy` fills in the fix-up
    policies)."""

    sensor_size: tuple[int, int] = (0, 0)
    classes: tuple[str, ...] = ()
    layout: str = ""
    read_kwargs: dict = {}

    def __init__(self):
        self.samples: list[Sample] = []

    def __len__(self) -> int:
        return len(self.samples)

    def read(self, i: int) -> EventStream:
        """The :class:`EventStream` of sample ``i``."""
        s = self.samples[i]
        return read_events(s.path, sensor_size=self.sensor_size, **self.read_kwargs)

    def __getitem__(self, i: int):
        if not -len(self) <= i < len(self):
            raise IndexError(f"sample index {i} out of range for {len(self)} samples")
        return self.read(i).events, self.samples[i].label

    @property
    def labels(self) -> np.ndarray:
        """Class label of every sample, int64 (N,)."""
        return np.array([s.label for s in self.samples], dtype=np.int64)

    def cache_key(self) -> str:
        """Identity of this dataset's content (paths, sizes, mtimes, labels) for caches."""
        h = hashlib.sha256()
        h.update(f"{type(self).__name__}|{self.layout}|{self.sensor_size}|"
                 f"{sorted(self.read_kwargs.items())}".encode())
        for s in self.samples:
            try:
                st = os.stat(s.path)
                stamp = f"{st.st_size}:{st.st_mtime_ns}"
            except OSError:
                stamp = "?"
            h.update(f"{s.path}|{s.label}|{s.segment}|{stamp}\n".encode())
        return h.hexdigest()

    def subset(self, indices) -> EventDataset:
        """A dataset view with the samples at ``indices``."""
        sub = object.__new__(type(self))
        sub.__dict__.update(self.__dict__)
        sub.samples = [self.samples[int(i)] for i in indices]
        return sub

    def _set_policy(self, sort: bool = False, out_of_range: str = "error",
                    time_tolerance_us: int = 0, **extra) -> None:
        """Check and store the :func:`events.read_events` fix-up policies (plus
        ``extra`` reader arguments) in this instance's ``read_kwargs``."""
        if out_of_range not in OUT_OF_RANGE_POLICIES:
            raise ValueError(f"out_of_range must be one of {OUT_OF_RANGE_POLICIES}, "
                             f"got {out_of_range!r}")
        if (not isinstance(time_tolerance_us, (int, np.integer))
                or isinstance(time_tolerance_us, bool) or time_tolerance_us < 0):
            raise ValueError(f"time_tolerance_us must be an integer >= 0, "
                             f"got {time_tolerance_us!r}")
        # only the policies that differ from read_events' defaults, so that the cache
        # key of a default dataset stays what it was
        policy = {"sort": bool(sort), "out_of_range": out_of_range,
                  "time_tolerance_us": int(time_tolerance_us)}
        defaults = {"sort": False, "out_of_range": "error", "time_tolerance_us": 0}
        self.read_kwargs = {k: v for k, v in policy.items() if v != defaults[k]}
        self.read_kwargs.update(extra)

    def _check_nonempty(self, root, what):
        if not self.samples:
            raise FileNotFoundError(f"no {what} samples found under {root} "
                                    f"(layouts accepted: see docs/events.md)")


def train_val_split(dataset, val_fraction: float = 0.1, seed: int = 0):
    """The paper's 9:1 train/validation split (Kaiser et al. 2024, Sec. 4), stratified
    per class and seeded. Returns (train_indices, val_indices), int64, sorted."""
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction!r}")
    labels = dataset.labels if hasattr(dataset, "labels") else np.asarray(dataset)
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train, val = [], []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        idx = idx[rng.permutation(idx.size)]
        n_val = int(round(val_fraction * idx.size))
        val.append(idx[:n_val])
        train.append(idx[n_val:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))


# --------------------------------------------------------------------------------------
# N-MNIST
# --------------------------------------------------------------------------------------

class NMNIST(EventDataset):
    """N-MNIST (Orchard et al. 2015): 34x34 ATIS, 10 classes, 60,000 train / 10,000 test.

    Layouts (``root`` may be the folder itself or its parent, as noted):
      * ``original``/``tonic``: ``Train/<digit>/<nnnnn>.bin`` and ``Test/...``
        (the extracted archive; tonic: ``save_to/NMNIST/Train/...``);
      * ``spikingjelly``: ``events_np/{train,test}/<digit>/*.npz`` or
        ``extract/{Train,Test}/<digit>/*.bin``;
      * ``nmnist-small``: ``train/<n>.bs2`` + ``train-labels.txt`` (train only).
    The train/test split is the dataset's own (the Train and Test folders).
    ``sort``, ``out_of_range``, ``time_tolerance_us``: the fix-up policies of
    :func:`events.read_events`, applied to every sample."""

    sensor_size = NMNIST_SENSOR
    classes = tuple(str(d) for d in range(10))

    def __init__(self, root, train: bool = True, *, sort: bool = False,
                 out_of_range: str = "error", time_tolerance_us: int = 0):
        super().__init__()
        self._set_policy(sort, out_of_range, time_tolerance_us)
        root = Path(root)
        part = "Train" if train else "Test"
        small_labels = root / "train-labels.txt"
        if small_labels.exists() and (root / "train").is_dir():
            if not train:
                raise ValueError(f"train=False: the nmnist-small layout at {root} has "
                                 "training samples only; split them with train_val_split")
            self.layout = "nmnist-small"
            for n, label in _read_small_labels(small_labels):
                f = root / "train" / f"{n}.bs2"
                if not f.exists():
                    raise FileNotFoundError(f"{f} is listed in {small_labels} but absent")
                self.samples.append(Sample(str(f), label))
            self._check_nonempty(root, "N-MNIST")
            return
        for base, layout, sub, ext in (
            (root, "original", part, ".bin"),
            (root / "NMNIST", "tonic", part, ".bin"),
            (root / "extract", "spikingjelly", part, ".bin"),
            (root / "events_np", "spikingjelly", part.lower(), ".npz"),
        ):
            d = base / sub
            if d.is_dir():
                self.layout = layout
                self.samples = _class_folders(d, self.classes, ext)
                if self.samples:
                    break
        self._check_nonempty(root, f"N-MNIST {part}")


def _read_small_labels(path):
    out = []
    for k, line in enumerate(Path(path).read_text().splitlines()):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 2 or not parts[0].isdigit() or not parts[1].isdigit():
            raise ValueError(f"{path}: line {k + 1}: expected '<n> <label>', got {line!r}")
        out.append((int(parts[0]), int(parts[1])))
    out.sort()
    return out


def _class_folders(d: Path, classes, ext, natural=True) -> list[Sample]:
    samples = []
    for label, name in enumerate(classes):
        cd = d / name
        if not cd.is_dir():
            continue
        names = [f for f in os.listdir(cd) if f.endswith(ext)]
        names.sort(key=_natural_key if natural else None)
        samples.extend(Sample(str(cd / f), label) for f in names)
    return samples


# --------------------------------------------------------------------------------------
# DVS128 Gesture
# --------------------------------------------------------------------------------------

GESTURE_CLASSES = ("hand_clapping", "right_hand_wave", "left_hand_wave", "right_arm_clockwise",
                   "right_arm_counter_clockwise", "left_arm_clockwise",
                   "left_arm_counter_clockwise", "arm_roll", "air_drums", "air_guitar", "other")


class DVSGesture(EventDataset):
    """IBM DVS128 Gesture (Amir et al. 2017): 128x128, 11 classes; train/test by the
    archive's ``trials_to_train.txt`` / ``trials_to_test.txt`` (users 1-23 / 24-29).

    Layouts:
      * ``original``: ``DvsGesture/userNN_<light>.aedat`` (AEDAT 3.1) with
        ``userNN_<light>_labels.csv`` and ``trials_to_{train,test}.txt``; each CSV row
        is one sample, cut as ``start <= t < end`` (SpikingJelly's rule);
      * ``tonic``: ``DVSGesture/ibmGesture{Train,Test}/<user_light>/<label>.npy``
        ((N, 4) float ``[x, y, p, t_ms]``);
      * ``spikingjelly``: ``events_np/{train,test}/<label>/*.npz``.

    ``sort``, ``out_of_range``, ``time_tolerance_us``: the fix-up policies of
    :func:`events.read_events`, applied to every file read (for the original
    layout: to the whole recording, before it is cut into samples)."""

    sensor_size = DVS128_SENSOR
    classes = GESTURE_CLASSES

    def __init__(self, root, train: bool = True, *, sort: bool = False,
                 out_of_range: str = "error", time_tolerance_us: int = 0):
        super().__init__()
        self._set_policy(sort, out_of_range, time_tolerance_us)
        root = Path(root)
        self._cache_path = None
        self._cache_events = None
        trials = "trials_to_train.txt" if train else "trials_to_test.txt"
        for d in (root, root / "DvsGesture"):
            if (d / trials).exists():
                self.layout = "original"
                for name in (d / trials).read_text().split():
                    f = d / name
                    if not name.endswith(".aedat"):
                        continue
                    lab = d / (name[:-len(".aedat")] + "_labels.csv")
                    if not f.exists() or not lab.exists():
                        raise FileNotFoundError(f"{f} or its labels {lab} is missing "
                                                f"(listed in {d / trials})")
                    for k, row in enumerate(read_gesture_labels(lab)):
                        self.samples.append(Sample(str(f), int(row["label"]), k))
                self._check_nonempty(root, "DVS Gesture")
                return
        folder = "ibmGestureTrain" if train else "ibmGestureTest"
        for d in (root / "DVSGesture" / folder, root / folder):
            if d.is_dir():
                self.layout = "tonic"
                for path, dirs, files in sorted(os.walk(d)):
                    dirs.sort()
                    for f in sorted(files, key=_natural_key):
                        if f.endswith(".npy") and f[:-4].isdigit():
                            self.samples.append(Sample(os.path.join(path, f), int(f[:-4])))
                self._check_nonempty(root, "DVS Gesture")
                return
        d = root / "events_np" / ("train" if train else "test")
        if d.is_dir():
            self.layout = "spikingjelly"
            self.samples = _class_folders(d, [str(i) for i in range(11)], ".npz")
        self._check_nonempty(root, "DVS Gesture")

    def read(self, i: int) -> EventStream:
        s = self.samples[i]
        if s.segment < 0:
            return read_events(s.path, sensor_size=self.sensor_size, **self.read_kwargs)
        if self._cache_path != s.path:  # a recording holds ~10 samples: keep the last one
            self._cache_events = read_events(s.path, sensor_size=self.sensor_size,
                                             **self.read_kwargs)
            self._cache_path = s.path
        full = self._cache_events
        lab = Path(s.path[:-len(".aedat")] + "_labels.csv")
        label, ev = split_by_labels(full.events, read_gesture_labels(lab))[s.segment]
        info = dict(full.info, segment=s.segment, labels_csv=str(lab))
        return EventStream(ev.copy(), full.sensor_size, full.format, full.path, info)


# --------------------------------------------------------------------------------------
# CIFAR10-DVS
# --------------------------------------------------------------------------------------

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")


class CIFAR10DVS(EventDataset):
    """CIFAR10-DVS (Li et al. 2017): 128x128 DVS128, 10 classes x 1,000 recordings.

    The dataset has no official test set; like SpikingJelly's
    ``split_to_train_test_set(0.9, ds, 10, random_split=False)`` the first 90 % of each
    class (file names in sorted order) is ``train=True`` and the rest ``train=False``;
    ``train=None`` gives all samples.

    Layouts:
      * ``original``: ``<class>/cifar10_<class>_<i>.aedat`` (AEDAT 2.0), read with the
        SpikingJelly address map (``address_map='cifar10dvs'``);
      * ``tonic``: ``CIFAR10DVS/<class>/*.aedat4`` (tonic >= 1.2);
      * ``spikingjelly``: ``events_np/<class>/*.npz``.

    ``sort``, ``out_of_range``, ``time_tolerance_us``: the fix-up policies of
    :func:`events.read_events`, applied to every sample."""

    sensor_size = DVS128_SENSOR
    classes = CIFAR10_CLASSES

    def __init__(self, root, train: bool | None = True, train_ratio: float = 0.9, *,
                 sort: bool = False, out_of_range: str = "error",
                 time_tolerance_us: int = 0):
        super().__init__()
        self._set_policy(sort, out_of_range, time_tolerance_us)
        root = Path(root)
        if not 0.0 < train_ratio < 1.0:
            raise ValueError(f"train_ratio must be in (0, 1), got {train_ratio!r}")
        for base, layout, ext in ((root / "events_np", "spikingjelly", ".npz"),
                                  (root / "CIFAR10DVS", "tonic", ".aedat4"),
                                  (root, "tonic", ".aedat4"),
                                  (root, "original", ".aedat")):
            if base.is_dir():
                s = _class_folders(base, self.classes, ext, natural=False)
                if s:
                    self.layout = layout
                    self.samples = s
                    break
        if self.layout == "original":
            self.read_kwargs = {**self.read_kwargs, "address_map": "cifar10dvs"}
        self._check_nonempty(root, "CIFAR10-DVS")
        if train is not None:
            labels = self.labels
            keep = []
            for c in range(len(self.classes)):
                idx = np.flatnonzero(labels == c)
                cut = int(idx.size * train_ratio)
                keep.extend(idx[:cut] if train else idx[cut:])
            self.samples = [self.samples[i] for i in sorted(keep)]


def nmnist_dir() -> Path:
    """Where the real N-MNIST subset is: ``$P2M_NMNIST_DIR``, else
    ``../shared/data/nmnist-small`` relative to the repository."""
    env = os.environ.get("P2M_NMNIST_DIR")
    if env:
        return Path(env)
    return (Path(__file__).resolve().parent.parent.parent / "shared" / "data"
            / "nmnist-small")
