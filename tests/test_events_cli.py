"""`p2m events info|show|default` through p2m.cli.main."""

from __future__ import annotations

import json

import numpy as np

from events import make_events, write_nmnist_bin
from p2m.cli import main


def _file(tmp_path):
    rng = np.random.default_rng(0)
    ev = make_events(rng.integers(0, 34, 500), rng.integers(0, 34, 500),
                     np.sort(rng.integers(0, 300_000, 500)), rng.integers(0, 2, 500))
    p = tmp_path / "s.bin"
    write_nmnist_bin(p, ev)
    return p, ev


def test_info_text_and_json(tmp_path, capsys):
    p, ev = _file(tmp_path)
    assert main(["events", "info", str(p)]) == 0
    out = capsys.readouterr().out
    assert "events       500" in out and "34 x 34" in out
    assert main(["events", "info", str(p), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["events"] == 500 and s["sensor_size"] == [34, 34]
    assert s["t_first_us"] == int(ev["t"][0]) and s["t_last_us"] == int(ev["t"][-1])
    assert abs(s["on_fraction"] - ev["p"].mean()) < 1e-12


def test_info_bad_file_is_a_clean_error(tmp_path, capsys):
    p = tmp_path / "bad.bin"
    p.write_bytes(b"\x00" * 7)
    assert main(["events", "info", str(p)]) == 2
    err = capsys.readouterr().err
    assert "bad.bin at byte offset 5" in err


def test_show_writes_png(tmp_path):
    p, _ = _file(tmp_path)
    out = tmp_path / "f.png"
    assert main(["events", "show", str(p), "-o", str(out), "--frames", "3"]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_default_writes_samples(tmp_path, monkeypatch, capsys):
    import events.default_dataset as dd

    # a small stand-in for the 1,797-sample build (that one is tested elsewhere)
    def small_build(seed=0, params=None, **kw):
        evs, labels = dd.default_samples(5, seed, params)
        sizes = np.array([e.size for e in evs])
        return np.concatenate(evs), np.concatenate([[0], np.cumsum(sizes)]), labels, None
    monkeypatch.setattr(dd, "build_default_dataset", small_build)
    out = tmp_path / "def"
    assert main(["events", "default", "--out", str(out), "--n", "3", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["samples"] == 5 and 0.4 < stats["on_fraction_mean"] < 0.6
    assert sorted(f.name for f in out.iterdir()) == ["1.bin", "2.bin", "3.bin", "labels.txt"]
    assert main(["events", "info", str(out / "2.bin")]) == 0


def test_demo_events(tmp_path):
    from events.cli import demo_events

    s = demo_events(tmp_path / "ev", seed=0, n=3)
    assert s["samples"] == 3 and len(s["labels"]) == 3
    names = sorted(f.name for f in (tmp_path / "ev").iterdir())
    assert names == ["1.bin", "2.bin", "3.bin", "labels.txt", "sample0_frames.png",
                     "stats.json"]


# --------------------------------------------------------------------------------------
# fix-up flags (--sort, --time-tolerance-us, --out-of-range) and the -o / argument checks
# --------------------------------------------------------------------------------------

def _raw_bin(path, x, y, t, p):
    """An N-MNIST .bin written byte by byte (the writer refuses unordered events)."""
    path.write_bytes(b"".join(
        bytes([xi, yi, (pi << 7) | (ti >> 16), (ti >> 8) & 0xFF, ti & 0xFF])
        for xi, yi, ti, pi in zip(x, y, t, p, strict=True)))
    return path


def test_backwards_timestamp_error_names_the_flags(tmp_path, capsys):
    p = _raw_bin(tmp_path / "back.bin", [1, 2, 3], [1, 1, 1], [100, 1000, 400], [0, 1, 0])
    assert main(["events", "info", str(p)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "time goes backwards by 600 us" in err
    assert "--sort" in err and "--time-tolerance-us" in err and "sort=True" not in err
    assert main(["events", "info", str(p), "--sort"]) == 0
    out = capsys.readouterr().out
    assert "events       3" in out
    assert "info.sorted_moved_events" in out and "info.max_backward_step_us" in out
    assert main(["events", "info", str(p), "--time-tolerance-us", "600", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["info"]["sorted_moved_events"] == 2 and s["info"]["max_backward_step_us"] == 600
    assert main(["events", "info", str(p), "--time-tolerance-us", "599"]) == 2
    assert "tolerance of 599 us" in capsys.readouterr().err
    assert main(["events", "info", str(p), "--time-tolerance-us", "-1"]) == 2
    assert "--time-tolerance-us must be >= 0" in capsys.readouterr().err


def test_out_of_range_flag(tmp_path, capsys):
    p = _raw_bin(tmp_path / "wide.bin", [1, 40, 3], [1, 1, 1], [100, 200, 300], [0, 1, 0])
    assert main(["events", "info", str(p)]) == 2
    err = capsys.readouterr().err
    assert "outside the 34x34 sensor" in err and "--out-of-range clip or drop" in err
    assert main(["events", "info", str(p), "--out-of-range", "drop", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["events"] == 2 and s["info"]["dropped_out_of_range"] == 1
    assert main(["events", "info", str(p), "--out-of-range", "clip"]) == 0
    assert "info.clipped_out_of_range" in capsys.readouterr().out


def test_show_takes_the_flags(tmp_path, capsys):
    p = _raw_bin(tmp_path / "back.bin", [1, 2, 3], [1, 1, 1], [100, 1000, 400], [0, 1, 0])
    out = tmp_path / "f.png"
    assert main(["events", "show", str(p), "-o", str(out)]) == 2
    assert "--sort" in capsys.readouterr().err and not out.exists()
    assert main(["events", "show", str(p), "-o", str(out), "--sort", "--frames", "2"]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_show_prints_the_path_it_wrote(tmp_path, capsys):
    p, _ = _file(tmp_path)
    for name in ("frames", "frames.v2"):
        assert main(["events", "show", str(p), "-o", str(tmp_path / name), "--frames", "2"]) == 0
        real = tmp_path / f"{name}.png"
        assert f"wrote {real}\n" in capsys.readouterr().out
        assert real.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert not (tmp_path / name).exists()


def test_show_onto_a_directory_or_bad_frames(tmp_path, capsys):
    p, _ = _file(tmp_path)
    (tmp_path / "d.png").mkdir()
    assert main(["events", "show", str(p), "-o", str(tmp_path / "d.png")]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"p2m events: error: {tmp_path / 'd.png'}: Is a directory"
    assert main(["events", "show", str(p), "-o", str(tmp_path / "x.png"), "--frames", "0"]) == 2
    assert "--frames must be >= 1" in capsys.readouterr().err


def test_default_checks_seed_before_building(capsys, monkeypatch):
    import events.default_dataset as dd

    def boom(*a, **k):
        raise AssertionError("built before checking --seed")
    monkeypatch.setattr(dd, "build_default_dataset", boom)
    assert main(["events", "default", "--seed", "-1"]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == "p2m events: error: --seed must be >= 0, got -1"
    assert captured.out == ""
