"""events.framing: window semantics (against loop references) and the on-disk cache."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events import make_events, write_npz
from events.datasets import EventDataset, Sample
from events.framing import FramedDataset, frame_dataset, frame_events, window_bounds


def random_events(n, H=8, W=9, t_max=10_000, seed=0):
    rng = np.random.default_rng(seed)
    return make_events(rng.integers(0, W, n), rng.integers(0, H, n),
                       np.sort(rng.integers(0, t_max, n)), rng.integers(0, 2, n))


def reference_frames(ev, H, W, T, split_by, window_us=None, t_start=None):
    """Per-event loop reference: SpikingJelly's integrate_events_by_fixed_frames_number
    (split_by='time'/'number') and the fixed-window hardware rule."""
    out = np.zeros((T, 2, H, W), np.int64)
    t = ev["t"]
    n = len(ev)
    for i in range(n):
        if split_by == "number":
            di = n // T
            k = min(i // di, T - 1) if di else T - 1
        elif window_us is not None:
            t0 = 0 if t_start is None else t_start
            k = (int(t[i]) - t0) // window_us
            if k < 0 or k >= T:
                continue
        else:
            dt = (int(t[-1]) - int(t[0])) // T
            k = T - 1 if dt == 0 else min((int(t[i]) - int(t[0])) // dt, T - 1)
        out[k, ev["p"][i], ev["y"][i], ev["x"][i]] += 1
    return out


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 300), T=st.integers(1, 12), seed=st.integers(0, 10_000),
       mode=st.sampled_from(["time", "number", "window"]))
def test_frames_match_reference(n, T, seed, mode):
    ev = random_events(n, seed=seed)
    if mode == "window":
        w = 1 + seed % 3000
        fr, outside = frame_events(ev, (8, 9), T, window_us=w, t_start=seed % 500,
                                   return_outside=True)
        ref = reference_frames(ev, 8, 9, T, "time", window_us=w, t_start=seed % 500)
        assert outside == n - int(ref.sum())
    else:
        if mode == "number" and n < T:
            ev = random_events(T + n, seed=seed)
        fr = frame_events(ev, (8, 9), T, split_by=mode)
        ref = reference_frames(ev, 8, 9, T, mode)
        assert fr.sum() == len(ev)  # nothing lost in the SpikingJelly modes
    assert fr.shape == (T, 2, 8, 9)
    np.testing.assert_array_equal(fr, ref)


def test_window_bounds_and_bad_args():
    t = np.array([0, 5, 10, 15, 20, 25], np.int64)
    assert window_bounds(t, 2, window_us=10).tolist() == [0, 2, 4]
    assert window_bounds(t, 3, split_by="number").tolist() == [0, 2, 4, 6]
    with pytest.raises(ValueError, match="T must be"):
        window_bounds(t, 0)
    with pytest.raises(ValueError, match="split_by"):
        window_bounds(t, 2, split_by="count")
    with pytest.raises(ValueError, match="window_us"):
        window_bounds(t, 2, window_us=0)


def test_counts_saturate_at_dtype_max():
    ev = make_events(np.zeros(300, int), np.zeros(300, int), np.arange(300), np.ones(300, int))
    fr = frame_events(ev, (2, 2), 1, dtype=np.uint8)
    assert fr[0, 1, 0, 0] == 255


class TinyDataset(EventDataset):
    sensor_size = (8, 9)
    classes = ("a", "b")
    layout = "test"

    def __init__(self, folder, n=6):
        super().__init__()
        for i in range(n):
            p = folder / f"{i}.npz"
            write_npz(p, random_events(200, seed=i), (8, 9))
            self.samples.append(Sample(str(p), i % 2))


def test_frame_dataset_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("P2M_CACHE_DIR", str(tmp_path / "cache"))
    ds = TinyDataset(tmp_path)
    fr, lab = frame_dataset(ds, 4, progress=False)
    assert fr.shape == (6, 4, 2, 8, 9) and lab.tolist() == [0, 1, 0, 1, 0, 1]
    files = sorted((tmp_path / "cache" / "frames").iterdir())
    assert len(files) == 2
    fr2, _ = frame_dataset(ds, 4, progress=False)  # from the cache (memory-mapped)
    assert isinstance(fr2, np.memmap)
    np.testing.assert_array_equal(fr, fr2)
    frame_dataset(ds, 4, split_by="number", progress=False)  # other parameters: new entry
    assert len(list((tmp_path / "cache" / "frames").iterdir())) == 4
    fd = FramedDataset(ds, 4, progress=False)
    x, y = fd[3]
    assert x.dtype == np.float32 and x.shape == (4, 2, 8, 9) and y == 1
    np.testing.assert_array_equal(x, frame_events(ds[3][0], (8, 9), 4))
