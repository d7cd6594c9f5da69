"""golden.datasets: the on-disk layouts of the original archives, tonic and SpikingJelly,
built here from synthetic events, and the train/test and 9:1 train/validation splits."""

from __future__ import annotations

import numpy as np
import pytest

from golden import events as E
from golden.datasets import CIFAR10_CLASSES, CIFAR10DVS, NMNIST, DVSGesture, train_val_split


def random_events(n, H, W, t_max=300_000, seed=0):
    rng = np.random.default_rng(seed)
    return E.make_events(rng.integers(0, W, n), rng.integers(0, H, n),
                         np.sort(rng.integers(0, t_max, n)), rng.integers(0, 2, n))


def _sj_npz(path, ev):
    """SpikingJelly's events_np file: keys t, x, y, p, no sensor size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, t=ev["t"], x=ev["x"], y=ev["y"], p=ev["p"])


@pytest.fixture(scope="module")
def nmnist_layouts(tmp_path_factory):
    root = tmp_path_factory.mktemp("nmnist")
    samples = {}
    for part in ("Train", "Test"):
        for d in range(10):
            for k in range(2):
                ev = random_events(50, 34, 34, seed=100 * d + k + (0 if part == "Train" else 7))
                samples[(part, d, k)] = ev
                for base in (root / "orig", root / "tonic" / "NMNIST", root / "sj" / "extract"):
                    f = base / part / str(d) / f"{k + 1:05d}.bin"
                    f.parent.mkdir(parents=True, exist_ok=True)
                    E.write_nmnist_bin(f, ev)
                _sj_npz(root / "sj2" / "events_np" / part.lower() / str(d) / f"{k}.npz", ev)
    small = root / "small"
    (small / "train").mkdir(parents=True)
    lines = ["#sample #class"]
    for n in range(1, 21):
        ev = samples[("Train", (n - 1) % 10, (n - 1) // 10)]
        E.write_nmnist_bin(small / "train" / f"{n}.bs2", ev)
        lines.append(f"{n}\t{(n - 1) % 10}")
    (small / "train-labels.txt").write_text("\n".join(lines) + "\n")
    return root, samples


@pytest.mark.parametrize("sub,layout", [("orig", "original"), ("tonic", "tonic"),
                                        ("sj", "spikingjelly"), ("sj2", "spikingjelly")])
def test_nmnist_layouts(nmnist_layouts, sub, layout):
    root, samples = nmnist_layouts
    for train, part in ((True, "Train"), (False, "Test")):
        ds = NMNIST(root / sub, train=train)
        assert ds.layout == layout and len(ds) == 20 and ds.sensor_size == (34, 34)
        assert ds.labels.tolist() == sorted(list(range(10)) * 2)
        ev, label = ds[3]  # digit 1, second file
        np.testing.assert_array_equal(ev, samples[(part, 1, 1)])
        assert label == 1


def test_nmnist_small_layout(nmnist_layouts):
    root, samples = nmnist_layouts
    ds = NMNIST(root / "small")
    assert ds.layout == "nmnist-small" and len(ds) == 20
    assert ds.labels[:3].tolist() == [0, 1, 2]
    np.testing.assert_array_equal(ds[12][0], samples[("Train", 2, 1)])
    with pytest.raises(ValueError, match="training samples only"):
        NMNIST(root / "small", train=False)
    with pytest.raises(FileNotFoundError, match="no N-MNIST"):
        NMNIST(root / "nothing-here")


def test_gesture_layouts(tmp_path):
    # original archive: DvsGesture/userNN_light.aedat (+ _labels.csv), trials lists
    d = tmp_path / "orig" / "DvsGesture"
    d.mkdir(parents=True)
    rec = random_events(3000, 128, 128, t_max=3_000_000, seed=5)
    E.write_aedat31(d / "user01_led.aedat", rec)
    E.write_aedat31(d / "user24_led.aedat", rec)
    for u in ("user01_led", "user24_led"):
        (d / f"{u}_labels.csv").write_text("class,startTime_usec,endTime_usec\n"
                                           "3,100000,900000\n1,1000000,2000000\n"
                                           "11,2000000,2900000\n")
    (d / "trials_to_train.txt").write_text("user01_led.aedat\n")
    (d / "trials_to_test.txt").write_text("user24_led.aedat\n")
    ds = DVSGesture(tmp_path / "orig")
    assert ds.layout == "original" and ds.labels.tolist() == [2, 0, 10]
    ev, label = ds[1]
    t = rec["t"]
    np.testing.assert_array_equal(ev, rec[(t >= 1_000_000) & (t < 2_000_000)])
    assert label == 0 and len(DVSGesture(tmp_path / "orig", train=False)) == 3
    # tonic: DVSGesture/ibmGestureTrain/<user>/<label>.npy, columns x, y, p, t_ms
    for lab, seg in enumerate((rec[:100], rec[100:300])):
        f = tmp_path / "tonic" / "DVSGesture" / "ibmGestureTrain" / "user01_led" / f"{lab}.npy"
        f.parent.mkdir(parents=True, exist_ok=True)
        np.save(f, np.stack([seg["x"], seg["y"], seg["p"], seg["t"] / 1000.0], 1))
    dt = DVSGesture(tmp_path / "tonic")
    assert dt.layout == "tonic" and dt.labels.tolist() == [0, 1]
    np.testing.assert_array_equal(dt[1][0], rec[100:300])
    # SpikingJelly: events_np/train/<label>/<name>_<i>.npz
    _sj_npz(tmp_path / "sj" / "events_np" / "train" / "2" / "user01_led_0.npz", ev)
    ds2 = DVSGesture(tmp_path / "sj")
    assert ds2.layout == "spikingjelly" and ds2.labels.tolist() == [2]
    np.testing.assert_array_equal(ds2[0][0], ev)


def test_cifar10dvs_layouts_agree(tmp_path):
    per_class = 10
    evs = {}
    for c, name in enumerate(CIFAR10_CLASSES):
        for i in range(per_class):
            ev = random_events(40, 128, 128, seed=1000 * c + i)
            evs[(c, i)] = ev
            f = tmp_path / "orig" / name / f"cifar10_{name}_{i}.aedat"
            f.parent.mkdir(parents=True, exist_ok=True)
            E.write_aedat2(f, ev, address_map="cifar10dvs")
            g = tmp_path / "tonic" / "CIFAR10DVS" / name / f"cifar10_{name}_{i}.aedat4"
            g.parent.mkdir(parents=True, exist_ok=True)
            E.write_aedat4(g, ev, sensor_size=(128, 128))
            _sj_npz(tmp_path / "sj" / "events_np" / name / f"cifar10_{name}_{i}.npz", ev)
    sets = {k: CIFAR10DVS(tmp_path / k, train=None) for k in ("orig", "tonic", "sj")}
    assert {k: v.layout for k, v in sets.items()} == {"orig": "original", "tonic": "tonic",
                                                      "sj": "spikingjelly"}
    for i in (0, 37, 99):
        a, b, c = (sets[k][i] for k in ("orig", "tonic", "sj"))
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[0], c[0])
        assert a[1] == b[1] == c[1]
    tr = CIFAR10DVS(tmp_path / "sj", train=True)
    te = CIFAR10DVS(tmp_path / "sj", train=False)
    assert len(tr) == 90 and len(te) == 10
    assert np.bincount(te.labels).tolist() == [1] * 10
    # SpikingJelly order: file names sorted as strings, first 90 % of each class = train
    names = sorted(f"cifar10_airplane_{i}.npz" for i in range(per_class))
    assert te.samples[0].path.endswith(names[-1])


def test_train_val_split_is_stratified_seeded_9_to_1():
    labels = np.repeat(np.arange(10), 100)
    tr, va = train_val_split(labels, 0.1, seed=3)
    assert len(tr) == 900 and len(va) == 100
    assert np.intersect1d(tr, va).size == 0
    assert np.bincount(labels[va]).tolist() == [10] * 10
    tr2, va2 = train_val_split(labels, 0.1, seed=3)
    assert np.array_equal(va, va2)
    assert not np.array_equal(va, train_val_split(labels, 0.1, seed=4)[1])
    with pytest.raises(ValueError, match="val_fraction"):
        train_val_split(labels, 1.5)
