"""golden.data: the splits (dataset's own, 9:1 train/validation, the nmnist-small hold-out)
and framing on the chip's window grid."""

import os
from pathlib import Path

import numpy as np
import pytest

from golden.data import DEFAULT_FRAMING, FramedSplit, open_split


def test_default_splits_are_disjoint_and_sized():
    tr, va, te = (open_split("default", None, s) for s in ("train", "val", "test"))
    assert len(te) == 359 and len(tr) + len(va) == 1797 - 359
    assert len(va) == pytest.approx(0.1 * (len(tr) + len(va)), abs=10)
    ids = [{s.segment for s in d.samples} for d in (tr, va, te)]
    assert not (ids[0] & ids[1]) and not (ids[0] & ids[2]) and not (ids[1] & ids[2])
    assert open_split("default", None, "val").samples == va.samples  # seeded


def test_framing_is_the_chip_window_grid():
    te = open_split("default", None, "test").subset(range(3))
    T, w = DEFAULT_FRAMING["default"]
    f = FramedSplit.build(te, T, w, progress=False)
    assert f.counts.shape == (3, T, 2, 34, 34)
    ev = te[1][0]
    inside = ev[ev["t"] < T * w]
    assert f.input_events()[1] == inside.size
    k = 4
    sel = inside[(inside["t"] >= k * w) & (inside["t"] < (k + 1) * w)]
    assert int(f.counts[1, k].sum()) == sel.size


def test_nmnist_small_holds_out_100():
    d = os.environ.get("P2M_NMNIST_DIR")
    if not d or not (Path(d) / "train-labels.txt").is_file():
        pytest.skip("the real N-MNIST subset is absent (set P2M_NMNIST_DIR to nmnist-small)")
    tr, va, te = (open_split("nmnist", d, s) for s in ("train", "val", "test"))
    assert len(te) == 100 and len(tr) + len(va) == 900
    paths = [{s.path for s in x.samples} for x in (tr, va, te)]
    assert not (paths[0] & paths[2]) and not (paths[1] & paths[2])
    assert np.bincount(te.labels, minlength=10).min() >= 8  # stratified


def test_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="dataset"):
        open_split("mnist", None, "test")
    with pytest.raises(ValueError, match="--data"):
        open_split("nmnist", None, "test")
    with pytest.raises(FileNotFoundError, match="no such folder"):
        open_split("gesture", tmp_path / "nope", "test")
    with pytest.raises(FileNotFoundError, match="docs/events.md"):
        open_split("nmnist", tmp_path, "train")
