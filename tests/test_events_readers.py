"""Readers and writers of events (events.formats): round trips, malformed input, fuzzing."""

from __future__ import annotations

import os
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import events as E
from events import EventFormatError, make_events, read_events

FUZZ = settings(max_examples=int(os.environ.get("P2M_FUZZ_EXAMPLES", "60")), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def random_events(n, H=128, W=128, t_max=2_000_000, seed=0):
    rng = np.random.default_rng(seed)
    return make_events(rng.integers(0, W, n), rng.integers(0, H, n),
                       np.sort(rng.integers(0, t_max, n)), rng.integers(0, 2, n))


# ------------------------------------------------------------------------ round trips

@pytest.mark.parametrize("name,fmt,writer", [
    ("a.npz", "npz", lambda p, e: E.write_npz(p, e, (128, 128))),
    ("a.npy", "npy", lambda p, e: E.write_npy(p, e)),
    ("a.aedat", "aedat2", lambda p, e: E.write_aedat2(p, e)),
    ("g.aedat", "aedat3", lambda p, e: E.write_aedat31(p, e, packet_events=777)),
    ("a.aedat4", "aedat4", lambda p, e: E.write_aedat4(p, e, sensor_size=(128, 128),
                                                       packet_events=1000)),
    ("u.aedat4", "aedat4", lambda p, e: E.write_aedat4(p, e, sensor_size=(128, 128),
                                                       compression="none")),
    ("z.aedat4", "aedat4", lambda p, e: E.write_aedat4(p, e, sensor_size=(128, 128),
                                                       compression="zstd", packet_events=999)),
])
def test_round_trip_dvs128(tmp_path, name, fmt, writer):
    ev = random_events(5000)
    p = tmp_path / name
    writer(p, ev)
    assert E.detect_format(p) == fmt
    s = read_events(p, sensor_size=(128, 128) if fmt == "npy" else None)
    assert s.format == fmt
    assert s.sensor_size == (128, 128)
    np.testing.assert_array_equal(s.events, ev)
    events, size = s  # unpacks as (events, sensor_size)
    assert events.dtype == E.EVENT_DTYPE and size == (128, 128)


def test_round_trip_nmnist_with_overflow_markers(tmp_path):
    ev = random_events(3000, 34, 34, t_max=20_000_000, seed=1)  # beyond 23 bits
    p = tmp_path / "x.bin"
    with pytest.raises(ValueError, match="insert_overflow_markers"):
        E.write_nmnist_bin(p, ev)
    E.write_nmnist_bin(p, ev, insert_overflow_markers=True)
    s = read_events(p)
    assert s.sensor_size == (34, 34)
    assert s.info["overflow_markers"] == int(ev["t"][-1] // 8192)
    np.testing.assert_array_equal(s.events, ev)


def test_nmnist_overflow_marker_semantics(tmp_path):
    """A y == 240 record adds 2^13 us to itself and all later events, and is not an event
    (Orchard's eventvision.py / tonic's read_mnist_file)."""
    recs = [(1, 2, 0, 100), (0, 240, 0, 0), (3, 4, 1, 50), (0, 240, 0, 0), (5, 6, 0, 7)]
    raw = bytearray()
    for x, y, p, t in recs:
        raw += bytes([x, y, (p << 7) | (t >> 16), (t >> 8) & 255, t & 255])
    (tmp_path / "o.bin").write_bytes(bytes(raw))
    s = read_events(tmp_path / "o.bin")
    assert s.events["t"].tolist() == [100, 8192 + 50, 2 * 8192 + 7]
    assert s.events["x"].tolist() == [1, 3, 5] and s.events["p"].tolist() == [0, 1, 0]
    assert s.info["overflow_markers"] == 2


def test_aedat2_address_maps(tmp_path):
    ev = random_events(500)
    for amap in E.AEDAT2_ADDRESS_MAPS:
        p = tmp_path / f"{amap}.aedat"
        E.write_aedat2(p, ev, address_map=amap)
        np.testing.assert_array_equal(read_events(p, address_map=amap).events, ev)
    # jAER: x_raw = 127 - x, y_raw = y, bit0 = 1 - p; check one address by hand
    one = make_events([5], [9], [42], [1])
    E.write_aedat2(tmp_path / "one.aedat", one)
    data = (tmp_path / "one.aedat").read_bytes()
    addr, ts = struct.unpack(">II", data[-8:])
    assert addr == (9 << 8) | ((127 - 5) << 1) | 0 and ts == 42
    # the CIFAR10-DVS map is the jAER one transposed and flipped (SpikingJelly/tonic)
    cif = read_events(tmp_path / "one.aedat", address_map="cifar10dvs").events[0]
    assert (int(cif["x"]), int(cif["y"]), int(cif["p"])) == (127 - 9, 5, 1)


def test_aedat2_special_events_are_counted(tmp_path):
    ev = random_events(100)
    p = tmp_path / "s.aedat"
    E.write_aedat2(p, ev)
    data = bytearray(p.read_bytes())
    hdr = len(data) - 800
    struct.pack_into(">II", data, hdr + 8 * 10, 0x8000 | 3, int(ev["t"][10]))
    p.write_bytes(bytes(data))
    s = read_events(p)
    assert len(s) == 99 and s.info["special_events_skipped"] == 1


def test_aedat3_overflow_invalid_and_other_packets(tmp_path):
    t = np.array([10, 20, (1 << 31) + 5, (1 << 31) + 9], np.int64)
    ev = make_events([1, 2, 3, 4], [5, 6, 7, 8], t, [0, 1, 1, 0])
    p = tmp_path / "g.aedat"
    E.write_aedat31(p, ev)
    np.testing.assert_array_equal(read_events(p).events, ev)
    data = p.read_bytes()
    head_end = data.index(b"#!END-HEADER\r\n") + len(b"#!END-HEADER\r\n")
    # add a special-event packet (type 0) and mark one polarity event invalid
    other = E.AEDAT3_PACKET_HEADER.pack(0, 1, 8, 4, 0, 1, 1, 1) + b"\x00" * 8
    body = bytearray(data[head_end:])
    struct.pack_into("<I", body, 28, struct.unpack_from("<I", body, 28)[0] & ~1)
    p.write_bytes(data[:head_end] + other + bytes(body))
    s = read_events(p)
    assert s.info["non_polarity_packets_skipped"] == 1
    assert s.info["invalid_events_skipped"] == 1
    np.testing.assert_array_equal(s.events, ev[1:])


def test_gesture_labels_cut(tmp_path):
    ev = random_events(2000, t_max=1_000_000)
    csv = tmp_path / "user01_fluorescent_labels.csv"
    csv.write_text("class,startTime_usec,endTime_usec\n1,100000,300000\n11,300000,900000\n")
    labels = E.read_gesture_labels(csv)
    assert labels["label"].tolist() == [0, 10]
    parts = E.split_by_labels(ev, labels)
    assert [lab for lab, _ in parts] == [0, 10]
    for (_, seg), row in zip(parts, labels, strict=True):
        t = ev["t"]
        expect = ev[(t >= row["start_us"]) & (t < row["end_us"])]
        np.testing.assert_array_equal(seg, expect)
    csv.write_text("class,startTime_usec,endTime_usec\n12,1,2\n")
    with pytest.raises(EventFormatError, match="line 2"):
        E.read_gesture_labels(csv)


def test_tonic_dvsgesture_npy(tmp_path):
    ev = random_events(300)
    arr = np.stack([ev["x"], ev["y"], ev["p"], ev["t"] / 1000.0], axis=1)
    np.save(tmp_path / "3.npy", arr)
    s = read_events(tmp_path / "3.npy", sensor_size=(128, 128))
    assert s.info["layout"] == "tonic_dvsgesture_xypt_ms"
    np.testing.assert_array_equal(s.events, ev)


# ------------------------------------------------------------------------ malformed

def test_truncated_files_name_offset(tmp_path):
    ev = random_events(100, 34, 34)
    p = tmp_path / "t.bin"
    E.write_nmnist_bin(p, ev)
    p.write_bytes(p.read_bytes()[:-2])
    with pytest.raises(EventFormatError, match=r"t\.bin at byte offset 495") as ei:
        read_events(p)
    assert ei.value.offset == 495 and ei.value.index == 99
    q = tmp_path / "t.aedat"
    E.write_aedat2(q, random_events(10))
    q.write_bytes(q.read_bytes()[:-3])
    with pytest.raises(EventFormatError, match="truncated AEDAT 2.0"):
        read_events(q)
    r = tmp_path / "t4.aedat4"
    E.write_aedat4(r, random_events(10), sensor_size=(128, 128))
    r.write_bytes(r.read_bytes()[:-5])
    with pytest.raises(EventFormatError, match="truncated packet"):
        read_events(r)
    g = tmp_path / "t3.aedat"
    E.write_aedat31(g, random_events(10))
    g.write_bytes(g.read_bytes()[:-1])
    with pytest.raises(EventFormatError, match="truncated AEDAT 3.1 packet"):
        read_events(g)


@pytest.mark.parametrize("name,content,match", [
    ("x.aedat", b"\x01\x02garbage", "version line"),
    ("x.aedat4", b"#!AER-DAT4.0\r\n\xff\xff\xff\x00", "IOHeader"),
    ("x.dat", b"hello", "cannot tell the event format"),
    ("h.aedat", b"#!AER-DAT3.1\r\n#no end header\r\n", "END-HEADER"),
])
def test_bad_headers(tmp_path, name, content, match):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(EventFormatError, match=match):
        read_events(p)


def test_out_of_range_policies(tmp_path):
    ev = random_events(50, 40, 40, seed=3)  # written on a 40x40 grid, read as 34x34
    p = tmp_path / "r.bin"
    E.write_nmnist_bin(p, ev)
    bad = (ev["x"] >= 34) | (ev["y"] >= 34)
    first = int(np.flatnonzero(bad)[0])
    with pytest.raises(EventFormatError, match=f"event index {first}") as ei:
        read_events(p)
    assert ei.value.offset == 5 * first and "outside the 34x34 sensor" in str(ei.value)
    c = read_events(p, out_of_range="clip")
    assert len(c) == 50 and c.info["clipped_out_of_range"] == int(bad.sum())
    assert c.events["x"].max() <= 33 and c.events["y"].max() <= 33
    d = read_events(p, out_of_range="drop")
    assert len(d) == 50 - int(bad.sum()) and d.info["dropped_out_of_range"] == int(bad.sum())
    with pytest.raises(ValueError, match="out_of_range"):
        read_events(p, out_of_range="wrap")


def test_time_backwards_tolerance_and_sort(tmp_path):
    ev = random_events(20, 34, 34, t_max=100_000)
    ev["t"] = np.arange(20) * 1000
    ev["t"][7] = ev["t"][6] - 30  # 30 us backwards
    p = tmp_path / "b.npz"
    E.write_npz(p, ev, (34, 34))
    with pytest.raises(EventFormatError, match="event index 7.*backwards by 30 us"):
        read_events(p)
    s = read_events(p, time_tolerance_us=30)
    with pytest.raises(EventFormatError, match="tolerance of 29 us"):
        read_events(p, time_tolerance_us=29)
    assert np.all(np.diff(s.events["t"]) >= 0) and s.info["sorted_moved_events"] == 2
    s2 = read_events(p, sort=True)
    np.testing.assert_array_equal(s.events, s2.events)
    assert sorted(s2.events["t"].tolist()) == sorted(ev["t"].tolist())  # nothing dropped


def test_npz_missing_keys_and_bad_values(tmp_path):
    p = tmp_path / "m.npz"
    np.savez(p, x=np.zeros(3), y=np.zeros(3), t=np.zeros(3))
    with pytest.raises(EventFormatError, match=r"lacks arrays \['p'\]"):
        read_events(p)
    np.savez(p, x=np.zeros(3), y=np.zeros(3), t=np.zeros(3), p=np.array([0, 2, 1]))
    with pytest.raises(EventFormatError, match="polarity 2"):
        read_events(p, sensor_size=(4, 4))
    np.savez(p, x=np.zeros(3), y=np.zeros(2), t=np.zeros(3), p=np.zeros(3))
    with pytest.raises(EventFormatError, match="one length"):
        read_events(p)


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        read_events("/nonexistent/file.bin")


# ------------------------------------------------------------------------ fuzzing

def _valid_files(tmp_path):
    ev = random_events(60, 34, 34, seed=7)
    files = {}
    for name, w in [
        ("v.bin", lambda p: E.write_nmnist_bin(p, ev)),
        ("v.aedat", lambda p: E.write_aedat2(p, ev)),
        ("v3.aedat", lambda p: E.write_aedat31(p, ev, packet_events=16)),
        ("v.aedat4", lambda p: E.write_aedat4(p, ev, sensor_size=(34, 34), packet_events=16)),
        ("v0.aedat4", lambda p: E.write_aedat4(p, ev, sensor_size=(34, 34), compression="none")),
        ("v.npz", lambda p: E.write_npz(p, ev, (34, 34))),
        ("v.npy", lambda p: E.write_npy(p, ev)),
    ]:
        w(tmp_path / name)
        files[name] = (tmp_path / name).read_bytes()
    return files


def _parse_or_documented_error(path, **kw):
    try:
        s = read_events(path, **kw)
    except EventFormatError:
        return None
    ev = s.events
    assert ev.dtype == E.EVENT_DTYPE
    assert np.all(np.diff(ev["t"]) >= 0)
    H, W = s.sensor_size
    assert len(ev) == 0 or (ev["x"].max() < W and ev["y"].max() < H)
    assert set(np.unique(ev["p"]).tolist()) <= {0, 1}
    return s


@FUZZ
@given(data=st.binary(max_size=400),
       ext=st.sampled_from([".bin", ".aedat", ".aedat4", ".npz", ".npy", ".bs2"]),
       prefix=st.sampled_from([b"", b"#!AER-DAT2.0\r\n", b"#!AER-DAT3.1\r\n#!END-HEADER\r\n",
                               b"#!AER-DAT4.0\r\n", b"\x93NUMPY", b"PK\x03\x04"]))
def test_fuzz_random_bytes(tmp_path, data, ext, prefix):
    p = tmp_path / f"f{ext}"
    p.write_bytes(prefix + data)
    _parse_or_documented_error(p, sensor_size=(34, 34) if ext == ".npy" else None)


@pytest.fixture(scope="module")
def valid_files(tmp_path_factory):
    return _valid_files(tmp_path_factory.mktemp("valid"))


@FUZZ
@given(which=st.sampled_from(["v.bin", "v.aedat", "v3.aedat", "v.aedat4", "v0.aedat4",
                              "v.npz", "v.npy"]),
       edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)),
                      min_size=1, max_size=6),
       cut=st.one_of(st.none(), st.floats(0, 1)))
def test_fuzz_mutated_valid_files(tmp_path, valid_files, which, edits, cut):
    data = bytearray(valid_files[which])
    for frac, byte in edits:
        data[int(frac * len(data))] = byte
    if cut is not None:
        data = data[:int(cut * len(data))]
    p = tmp_path / which
    p.write_bytes(bytes(data))
    for policy in ({}, {"sort": True, "out_of_range": "drop"}):
        _parse_or_documented_error(p, **policy)
