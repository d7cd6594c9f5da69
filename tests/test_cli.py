"""The `p2m` front (p2m.cli.main): file-system errors are one-line messages with exit
status 2, argument checks happen before any work, real bugs keep their traceback."""

from __future__ import annotations

import pytest

import p2m.cli as cli
from p2m.cli import main


def _err_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def _no_build(monkeypatch):
    """Make the default-dataset build fail loudly: the checks must come first."""
    import events.default_dataset as dd

    def boom(*a, **k):
        raise AssertionError("the dataset was built before the arguments were checked")
    monkeypatch.setattr(dd, "build_default_dataset", boom)


def test_events_info_on_a_directory(tmp_path, capsys):
    assert main(["events", "info", str(tmp_path)]) == 2
    line = _err_line(capsys)
    assert line.startswith("p2m events: error: ")
    assert str(tmp_path) in line and "Is a directory" in line


def test_events_info_missing_file(tmp_path, capsys):
    missing = tmp_path / "nothing.bin"
    assert main(["events", "info", str(missing)]) == 2
    assert _err_line(capsys) == f"p2m events: error: {missing}: No such file or directory"


def test_characterize_out_is_an_existing_file(tmp_path, capsys):
    f = tmp_path / "taken"
    f.write_text("x")
    assert main(["characterize", "--quick", "--no-figures", "--out", str(f)]) == 2
    line = _err_line(capsys)
    assert line.startswith(f"p2m characterize: error: {f}: ")
    assert "File exists" in line or "Not a directory" in line


def test_events_default_out_is_an_existing_file(tmp_path, capsys, monkeypatch):
    _no_build(monkeypatch)
    f = tmp_path / "taken"
    f.write_text("x")
    assert main(["events", "default", "--out", str(f)]) == 2
    line = _err_line(capsys)
    assert line.startswith(f"p2m events: error: {f}: ") and "not a directory" in line


@pytest.mark.parametrize("argv,flag", [(["--seed", "-1"], "--seed"), (["--n", "-3"], "--n")])
def test_events_default_checks_arguments_first(capsys, monkeypatch, argv, flag):
    _no_build(monkeypatch)
    assert main(["events", "default", *argv]) == 2
    line = _err_line(capsys)
    assert line.startswith("p2m events: error: ") and flag in line


def test_demo_instances_bound_matches_the_characterization(capsys, monkeypatch):
    import p2m.demo

    def boom(*a, **k):
        raise AssertionError("run_demo started")
    monkeypatch.setattr(p2m.demo, "run_demo", boom)
    assert main(["demo", "--instances", "1", "--no-sim"]) == 2
    assert _err_line(capsys) == "p2m demo: error: --instances must be >= 2, got 1"
    assert main(["demo", "--seed", "-1", "--no-sim"]) == 2
    assert "--seed" in _err_line(capsys)


def test_demo_help_states_the_bound(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--help"])
    assert exc.value.code == 0
    assert ">= 2" in " ".join(capsys.readouterr().out.split())


def test_demo_accepts_two_instances(monkeypatch):
    import p2m.demo

    seen = {}
    monkeypatch.setattr(p2m.demo, "run_demo", lambda out, **kw: seen.update(kw))
    assert main(["demo", "--instances", "2", "--no-sim"]) == 0
    assert seen == {"instances": 2, "seed": 0, "sim": False}


def test_sim_passes_every_option_to_the_runner(monkeypatch):
    """p2m sim is make sim: simulator, parameters, test case and seed reach tb.run."""
    import tb.run

    seen = []
    monkeypatch.setattr(tb.run, "main", lambda argv: seen.append(argv) or 0)
    assert main(["sim", "test_p2m_top", "--seed", "7", "--testcase", "TopEndToEnd", "--sim",
                 "verilator", "--param", "N_CH=4", "--param", "OUT_H=3"]) == 0
    assert seen == [["test_p2m_top", "--seed", "7", "--testcase", "TopEndToEnd", "--sim",
                     "verilator", "--param", "N_CH=4", "--param", "OUT_H=3"]]


def test_unicode_decode_error_is_a_clean_error(capsys, monkeypatch):
    import events.cli

    def bad(args):
        b"\xff".decode("utf-8")
    monkeypatch.setattr(events.cli, "_info", bad)
    assert main(["events", "info", "whatever"]) == 2
    assert "can't decode byte 0xff" in _err_line(capsys)


def test_os_error_without_a_path(capsys, monkeypatch):
    import events.cli

    def bad(args):
        raise OSError("device gone")
    monkeypatch.setattr(events.cli, "_info", bad)
    assert main(["events", "info", "whatever"]) == 2
    assert _err_line(capsys) == "p2m events: error: device gone"


def test_os_error_text_two_paths():
    exc = OSError(18, "Invalid cross-device link", "/a", None, "/b")
    assert cli._os_error_text(exc) == "/a -> /b: Invalid cross-device link"


def test_real_bugs_keep_their_traceback(monkeypatch):
    import events.cli

    def bug(args):
        raise KeyError("a bug")
    monkeypatch.setattr(events.cli, "_info", bug)
    with pytest.raises(KeyError):
        main(["events", "info", "whatever"])
