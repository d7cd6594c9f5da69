"""events.datasets: the on-disk layouts of the original archives, tonic and SpikingJelly,
built here from synthetic events, and the train/test and 9:1 train/validation splits."""

from __future__ import annotations

import numpy as np
import pytest

import events as E
from events.datasets import CIFAR10_CLASSES, CIFAR10DVS, NMNIST, DVSGesture, train_val_split


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


# --------------------------------------------------------------------------------------
# the read_events fix-up policies reach every read of the dataset classes
# --------------------------------------------------------------------------------------

def _nmnist_raw(path, x, y, t, p):
    """An N-MNIST .bin written byte by byte (the writer refuses what we want here)."""
    rows = [bytes([xi, yi, (pi << 7) | (ti >> 16), (ti >> 8) & 0xFF, ti & 0xFF])
            for xi, yi, ti, pi in zip(x, y, t, p, strict=True)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(rows))


def test_nmnist_policies(tmp_path):
    # one file that goes back in time by 700 us, one with an event at x = 40 > 33
    _nmnist_raw(tmp_path / "Train" / "0" / "00001.bin", [1, 2, 3, 4], [1, 1, 1, 1],
                [100, 1000, 300, 2000], [0, 1, 0, 1])
    _nmnist_raw(tmp_path / "Train" / "1" / "00001.bin", [1, 40, 3], [1, 1, 1],
                [100, 200, 300], [0, 1, 0])
    strict = NMNIST(tmp_path)
    with pytest.raises(E.EventFormatError, match=r"time goes backwards.*sort=True"):
        strict[0]
    with pytest.raises(E.EventFormatError, match="out_of_range='clip' or 'drop'"):
        strict[1]
    fixed = NMNIST(tmp_path, sort=True, out_of_range="drop")
    ev, label = fixed[0]
    assert label == 0 and ev["t"].tolist() == [100, 300, 1000, 2000]
    assert fixed.read(0).info["sorted_moved_events"] == 2
    assert fixed[1][0]["x"].tolist() == [1, 3]
    assert fixed.read(1).info["dropped_out_of_range"] == 1
    # a tolerance covers the 700 us step, not a smaller one
    assert NMNIST(tmp_path, time_tolerance_us=700)[0][0]["t"].tolist() == [100, 300, 1000, 2000]
    with pytest.raises(E.EventFormatError, match="tolerance of 699 us"):
        NMNIST(tmp_path, time_tolerance_us=699)[0]
    assert NMNIST(tmp_path, out_of_range="clip")[1][0]["x"].tolist() == [1, 33, 3]
    # the policy is part of the cache identity; the default identity is unchanged
    assert strict.read_kwargs == {}
    assert fixed.cache_key() != strict.cache_key()
    assert fixed.subset([0]).read_kwargs == fixed.read_kwargs


@pytest.mark.parametrize("kwargs,match", [({"out_of_range": "ignore"}, "out_of_range"),
                                          ({"time_tolerance_us": -1}, "time_tolerance_us"),
                                          ({"time_tolerance_us": 1.5}, "time_tolerance_us")])
def test_bad_policy_is_refused_at_construction(tmp_path, kwargs, match):
    _nmnist_raw(tmp_path / "Train" / "0" / "00001.bin", [1], [1], [100], [0])
    with pytest.raises(ValueError, match=match):
        NMNIST(tmp_path, **kwargs)


def test_gesture_raw_aedat_policies(tmp_path):
    d = tmp_path / "DvsGesture"
    d.mkdir()
    rec = random_events(200, 128, 128, t_max=3_000_000, seed=9)
    assert 10_000 < rec["t"][49] < 1_400_000
    rec["t"][50] = rec["t"][49] - 5_000  # a backward step inside the first segment
    E.write_aedat31(d / "user01_led.aedat", rec)
    (d / "user01_led_labels.csv").write_text("class,startTime_usec,endTime_usec\n"
                                             "3,0,1500000\n1,1500000,3000000\n")
    (d / "trials_to_train.txt").write_text("user01_led.aedat\n")
    with pytest.raises(E.EventFormatError, match="time goes backwards"):
        DVSGesture(tmp_path)[0]
    ds = DVSGesture(tmp_path, sort=True)
    assert ds.layout == "original" and ds.read_kwargs == {"sort": True}
    a, b = ds.read(0), ds.read(1)
    assert a.info["sorted_moved_events"] > 0 and a.info["segment"] == 0
    t = np.sort(rec["t"])
    assert len(a) + len(b) == len(rec)
    np.testing.assert_array_equal(a.events["t"], t[t < 1_500_000])
    assert np.all(np.diff(b.events["t"]) >= 0)


def test_cifar10dvs_policies_keep_the_address_map(tmp_path):
    ev = random_events(30, 128, 128, seed=3)
    f = tmp_path / "orig" / "airplane" / "cifar10_airplane_0.aedat"
    f.parent.mkdir(parents=True)
    E.write_aedat2(f, ev, address_map="cifar10dvs")
    ds = CIFAR10DVS(tmp_path / "orig", train=None, sort=True)
    assert ds.read_kwargs == {"sort": True, "address_map": "cifar10dvs"}
    np.testing.assert_array_equal(ds[0][0], ev)
    # SpikingJelly npz with an event outside the 128 x 128 sensor
    bad = ev.copy()
    bad["x"][4] = 200
    _sj_npz(tmp_path / "sj" / "events_np" / "airplane" / "cifar10_airplane_0.npz", bad)
    with pytest.raises(E.EventFormatError, match="outside the 128x128 sensor"):
        CIFAR10DVS(tmp_path / "sj", train=None)[0]
    dropped = CIFAR10DVS(tmp_path / "sj", train=None, out_of_range="drop")
    assert len(dropped[0][0]) == len(ev) - 1
    assert dropped.read(0).info["dropped_out_of_range"] == 1
