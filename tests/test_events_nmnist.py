"""The real N-MNIST subset (P2M_NMNIST_DIR, default ../shared/data/nmnist-small):
the reader reads all of it and a linear classifier on our frames beats chance clearly."""

from __future__ import annotations

import numpy as np
import pytest

from events import read_events
from events.datasets import NMNIST, nmnist_dir, train_val_split
from events.framing import frame_events

ROOT = nmnist_dir()
pytestmark = [
    pytest.mark.nmnist,
    pytest.mark.skipif(not (ROOT / "train-labels.txt").exists(),
                       reason=f"real N-MNIST subset not found at {ROOT} "
                              "(set P2M_NMNIST_DIR to the nmnist-small folder)"),
]


@pytest.fixture(scope="module")
def dataset():
    return NMNIST(ROOT, train=True)


@pytest.fixture(scope="module")
def streams(dataset):
    return [dataset.read(i) for i in range(len(dataset))]


def test_reads_all_1000_files(dataset, streams):
    assert len(dataset) == 1000 and dataset.layout == "nmnist-small"
    n = np.array([len(s) for s in streams])
    on = np.array([s.events["p"].mean() for s in streams])
    dur = np.array([s.duration_us for s in streams])
    # README: about 300 ms (three saccades), 2,000-6,500 events per sample
    assert 1000 < n.min() and n.max() < 8000 and 3500 < n.mean() < 4800
    assert abs(on.mean() - 0.5) < 0.02
    assert 280_000 < dur.mean() < 320_000
    for s in streams:
        assert s.sensor_size == (34, 34) and s.format == "nmnist"
        assert np.all(np.diff(s.events["t"]) >= 0)
        assert not s.info  # nothing skipped, fixed or sorted in the real files


def test_file_bytes_round_trip(tmp_path, dataset, streams):
    from events import write_nmnist_bin
    for i in (0, 499, 999):
        out = tmp_path / f"{i}.bin"
        write_nmnist_bin(out, streams[i].events)
        assert out.read_bytes() == open(dataset.samples[i].path, "rb").read()
        np.testing.assert_array_equal(read_events(out).events, streams[i].events)


def test_linear_classifier_beats_chance(dataset, streams):
    from sklearn.linear_model import RidgeClassifier

    X = np.stack([frame_events(s.events, (34, 34), 3, window_us=105_000)
                  .reshape(3, 2, 17, 2, 17, 2).sum((3, 5)).ravel()
                  for s in streams]).astype(np.float32)
    X = np.log1p(X)
    y = dataset.labels
    tr, va = train_val_split(dataset, 0.2, seed=0)
    acc = RidgeClassifier(alpha=100.0).fit(X[tr], y[tr]).score(X[va], y[va])
    # chance is 10 %; measured 0.965 on the 199 held-out samples
    assert acc > 0.8, acc
