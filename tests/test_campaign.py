"""tb.campaign (p2m cosim): Dask orchestration, resuming, failures never missing, JUnit and
summary, with a stand-in runner (the real one runs the RTL: tests/test_sim_*.py)."""

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tb.campaign import SUMMARY_KEYS, Task, auto_per_sim, batches, run_campaign

HERE = Path(__file__).resolve().parent


def tasks(n, tmp):
    return [Task(f"s{i}_c0", i, 0, "chip.json", "ck", "default", None, "test", "none", i,
                 str(tmp / f"b{i}"), 60.0) for i in range(n)]


@pytest.fixture
def env(tmp_path, monkeypatch):
    calls = tmp_path / "calls"
    calls.mkdir()
    e = {"FAKE_CALLS": str(calls), "PYTHONPATH": str(HERE)}
    for k, v in e.items():
        monkeypatch.setenv(k, v)
    return e, calls


def test_campaign_runs_resumes_and_reports_failures(tmp_path, env):
    from campaign_fakes import fake_runner

    worker_env, calls = env
    out = tmp_path / "camp"
    worker_env = dict(worker_env, FAKE_RAISE="4")
    ts = tasks(6, tmp_path)
    s = run_campaign(ts, out, workers=2, runner=fake_runner, per_sim=1, progress=False,
                     worker_env=worker_env)
    for k in SUMMARY_KEYS:
        assert k in s
    assert s["samples"] == 6 and s["finished"] == 5 and s["failed"] == 1
    assert "s4_c0" in s["failures"] and "crashed" in s["failures"]["s4_c0"]
    assert s["spike_mismatches"] == 2 and s["samples_with_spike_mismatches"] == 1
    assert s["class_agreement"] == pytest.approx(4 / 5)
    assert s["realtime_factor"] == pytest.approx(2.0)
    # the failing task was tried twice (one retry); the others once
    assert len(list(calls.glob("s4_c0.*"))) == 2 and len(list(calls.glob("s0_c0.*"))) == 1
    junit = ET.parse(out / "junit.xml").getroot()[0]
    assert junit.get("tests") == "6" and junit.get("errors") == "1"
    assert junit.get("failures") == "2"  # s3 (spikes) and s5 (class)
    assert json.loads((out / "summary.json").read_text())["failed"] == 1
    assert "chip accuracy" in (out / "summary.md").read_text()
    # resume: only the failed task runs again
    s2 = run_campaign(ts, out, workers=1, runner=fake_runner, per_sim=1, progress=False,
                      worker_env=dict(worker_env, FAKE_RAISE=""))
    assert s2["finished"] == 6 and s2["failed"] == 0
    assert len(list(calls.glob("s0_c0.*"))) == 1 and len(list(calls.glob("s4_c0.*"))) == 3


def test_batches_group_samples_of_one_chip():
    """Consecutive tasks of one chip instance share a simulation, at most per_sim; another
    chip, another backpressure or a task with waves starts a new one."""
    ts = tasks(7, Path("/tmp"))
    ts[5] = Task(**{**ts[5].__dict__, "chip_path": "other.json"})
    ts = [Task(**{**ts[0].__dict__, "waves": True})] + ts[1:]
    got = [[t.index for t in b] for b in batches(ts, 3)]
    assert got == [[0], [1, 2, 3], [4], [5], [6]]
    assert [[t.index for t in b] for b in batches(ts[1:5], 1)] == [[1], [2], [3], [4]]
    with pytest.raises(ValueError, match="per_sim"):
        batches(ts, 0)
    assert auto_per_sim(3, 2) == 2 and auto_per_sim(100, 2) == 16 and auto_per_sim(1, 4) == 1


def test_campaign_batches_run_resume_and_isolate_failures(tmp_path, env):
    """per_sim = 3: one runner call per batch, one result file per sample; a batch that
    raises (retried once) is split into one simulation per sample, so only the failing
    sample is a failure; the next run runs only that one."""
    from campaign_fakes import fake_batch_runner

    worker_env, calls = env
    out = tmp_path / "camp"
    ts = tasks(7, tmp_path)
    s = run_campaign(ts, out, workers=2, batch_runner=fake_batch_runner, per_sim=3,
                     progress=False, worker_env=dict(worker_env, FAKE_RAISE="4"))
    assert s["finished"] == 6 and s["failed"] == 1 and list(s["failures"]) == ["s4_c0"]
    assert "crashed" in s["failures"]["s4_c0"]
    # batches [0 1 2] [3 4 5] [6]; [3 4 5] tried twice, then [3] [4] [5] (4 twice)
    assert len(list(calls.glob("s0_c0.*"))) == 1 and len(list(calls.glob("s3_c0.*"))) == 3
    assert len(list(calls.glob("s4_c0.*"))) == 2 and len(list(calls.glob("s5_c0.*"))) == 1
    assert not list(calls.glob("s1_c0.*")) and len(list(calls.glob("s6_c0.*"))) == 1
    assert s["simulations"] == 4  # [0 1 2], [3], [5], [6]
    r1 = json.loads((out / "results" / "s1_c0.json").read_text())
    assert r1["batch"]["tasks"] == ["s0_c0", "s1_c0", "s2_c0"] and r1["task"]["index"] == 1
    assert r1["wall_s"] == pytest.approx(0.2)
    junit = ET.parse(out / "junit.xml").getroot()[0]
    assert junit.get("tests") == "7" and junit.get("errors") == "1"
    s2 = run_campaign(ts, out, workers=2, batch_runner=fake_batch_runner, per_sim=3,
                      progress=False, worker_env=dict(worker_env, FAKE_RAISE=""))
    assert s2["finished"] == 7 and s2["failed"] == 0 and s2["simulations"] == 5
    assert s2["samples_per_hour"] > 0 and "samples run per hour" in (out / "summary.md").read_text()
    s3 = run_campaign(ts, out, workers=1, batch_runner=fake_batch_runner, progress=False)
    assert s3["finished"] == 7 and s3["samples_per_hour"] is None  # nothing left to run
    assert len(list(calls.glob("s4_c0.*"))) == 3 and len(list(calls.glob("s0_c0.*"))) == 1
    with pytest.raises(ValueError, match="runner or batch_runner"):
        run_campaign(ts, out, runner=print, batch_runner=print)
