"""tb.campaign (p2m cosim): Dask orchestration, resuming, failures never missing, JUnit and
summary, with a stand-in runner (the real one runs the RTL: tests/test_sim_*.py)."""

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tb.campaign import SUMMARY_KEYS, Task, run_campaign

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
    s = run_campaign(ts, out, workers=2, runner=fake_runner, progress=False,
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
    s2 = run_campaign(ts, out, workers=1, runner=fake_runner, progress=False,
                      worker_env=dict(worker_env, FAKE_RAISE=""))
    assert s2["finished"] == 6 and s2["failed"] == 0
    assert len(list(calls.glob("s0_c0.*"))) == 1 and len(list(calls.glob("s4_c0.*"))) == 3
