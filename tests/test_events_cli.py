"""`p2m events info|show|default` through p2m.cli.main."""

from __future__ import annotations

import json

import numpy as np

from golden.events import make_events, write_nmnist_bin
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
    import golden.default_dataset as dd

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
    from golden.cli import demo_events

    s = demo_events(tmp_path / "ev", seed=0, n=3)
    assert s["samples"] == 3 and len(s["labels"]) == 3
    names = sorted(f.name for f in (tmp_path / "ev").iterdir())
    assert names == ["1.bin", "2.bin", "3.bin", "labels.txt", "sample0_frames.png",
                     "stats.json"]
