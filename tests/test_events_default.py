"""events.default_dataset: the emulated N-MNIST-like digits dataset."""

from __future__ import annotations

import numpy as np
import pytest

from events.default_dataset import (
    DefaultDigits,
    DVSEmulationParams,
    dataset_statistics,
    default_samples,
    generate_events,
)
from events.framing import frame_events


@pytest.fixture(scope="module")
def first40():
    return default_samples(40, seed=0)


def test_samples_are_deterministic_and_independent(first40):
    evs, labels = first40
    again, labels2 = generate_events([5, 17], seed=0)  # generated in another batch
    np.testing.assert_array_equal(again[0], evs[5])
    np.testing.assert_array_equal(again[1], evs[17])
    assert labels2.tolist() == [labels[5], labels[17]]
    other, _ = generate_events([5], seed=1)
    assert not np.array_equal(other[0], evs[5])


def test_statistics_look_like_nmnist(first40):
    """Events per sample, ON fraction and duration close to the real N-MNIST subset
    (docs/events.md: real 4,133 +/- 1,154 events, ON 0.500, 306 ms)."""
    evs, labels = first40
    st = dataset_statistics(evs)
    assert 3000 < st["events_mean"] < 5500
    assert 0.45 < st["on_fraction_mean"] < 0.55
    assert 280 < st["duration_ms_mean"] <= 300
    for ev in evs:
        assert ev["x"].max() < 34 and ev["y"].max() < 34
        assert np.all(np.diff(ev["t"]) >= 0) and ev["t"].min() >= 0
    # three saccades: activity in each 100 ms third, quiet near the vertices
    allt = np.concatenate([e["t"] for e in evs])
    thirds = np.histogram(allt, bins=[0, 100_000, 200_000, 300_001])[0]
    assert thirds.min() > 0.2 * allt.size
    near_vertex = np.histogram(allt, bins=np.arange(0, 300_001, 10_000))[0]
    assert near_vertex[0] < near_vertex[5] / 4  # the saccade starts at rest


def test_dvs_model_parameters_matter():
    base, _ = default_samples(6)
    hi, _ = default_samples(6, params=DVSEmulationParams(contrast_on=0.6, contrast_off=0.6))
    assert sum(e.size for e in hi) < 0.75 * sum(e.size for e in base)
    quiet, _ = default_samples(6, params=DVSEmulationParams(noise_rate_hz=0.0, jitter_us=0.0))
    noisy, _ = default_samples(6, params=DVSEmulationParams(noise_rate_hz=20.0))
    assert sum(e.size for e in noisy) > sum(e.size for e in quiet) + 6 * 0.8 * 20 * 34 * 34 * 0.3
    with pytest.raises(ValueError, match="contrast_on"):
        DVSEmulationParams(contrast_on=0)
    with pytest.raises(ValueError, match="background"):
        DVSEmulationParams(background=1.5)


def test_refractory_period_is_respected():
    p = DVSEmulationParams(refractory_us=2000, noise_rate_hz=0.0, jitter_us=0.0)
    evs, _ = default_samples(3, params=p)
    for ev in evs:
        key = ev["y"].astype(np.int64) * 34 + ev["x"]
        order = np.lexsort((ev["t"], key))
        k, t = key[order], ev["t"][order]
        same = k[1:] == k[:-1]
        assert np.all(np.diff(t)[same] >= 2000)


def test_default_dataset_cached_and_learnable(tmp_path, monkeypatch):
    monkeypatch.setenv("P2M_CACHE_DIR", str(tmp_path))
    ds = DefaultDigits(seed=0, progress=False)
    assert len(ds) == 1797 and ds.sensor_size == (34, 34)
    assert ds.cache_path.exists() and ds.cache_path.parent == tmp_path
    first, _ = default_samples(3)
    np.testing.assert_array_equal(ds[2][0], first[2])
    ds2 = DefaultDigits(seed=0, progress=False)  # second time: from the cache
    np.testing.assert_array_equal(ds2[100][0], ds[100][0])
    tr, te = DefaultDigits(seed=0, split="train"), DefaultDigits(seed=0, split="test")
    assert len(tr) + len(te) == 1797 and abs(len(te) - 359) <= 5
    from sklearn.linear_model import RidgeClassifier

    def feats(d):  # 3 windows of 100 ms (one per saccade), 2x2-pooled counts
        X = np.stack([frame_events(d[i][0], (34, 34), 3, window_us=100_000)
                      .reshape(3, 2, 17, 2, 17, 2).sum((3, 5)).ravel()
                      for i in range(len(d))]).astype(np.float32)
        return np.log1p(X), d.labels
    Xtr, ytr = feats(tr)
    Xte, yte = feats(te)
    acc = RidgeClassifier(alpha=100.0).fit(Xtr, ytr).score(Xte, yte)
    assert acc > 0.8, acc  # measured 0.969 on the 359 held-out digits
