"""Stand-in co-simulation runners for tests/test_campaign.py (importable by the Dask
worker processes: the test puts this folder on their PYTHONPATH)."""

import os
from pathlib import Path


def fake_runner(task):
    """A deterministic result per task; sample 3 mismatches a spike; a task whose index is
    in $FAKE_RAISE raises; every call leaves a marker file in $FAKE_CALLS."""
    calls = Path(os.environ["FAKE_CALLS"])
    (calls / f"{task.task_id}.{os.getpid()}.{len(list(calls.iterdir()))}").write_text("")
    if str(task.index) in os.environ.get("FAKE_RAISE", "").split(","):
        raise RuntimeError(f"simulator crashed on {task.task_id}")
    label = task.index % 10
    return {"class_rtl": label, "class_golden": label if task.index != 5 else 0,
            "spike_mismatches": 2 if task.index == 3 else 0, "sim_time_s": 0.3,
            "wall_s": 0.6, "lost_events": 0, "label": label}


def fake_batch_runner(tasks):
    """One call per batch (a marker file named after its first task); results as
    :func:`fake_runner`'s, with the batch's task ids; a batch holding a task whose index is
    in $FAKE_RAISE raises."""
    calls = Path(os.environ["FAKE_CALLS"])
    t0 = tasks[0]
    (calls / f"{t0.task_id}.{os.getpid()}.{len(list(calls.iterdir()))}").write_text("")
    bad = os.environ.get("FAKE_RAISE", "").split(",")
    if any(str(t.index) in bad for t in tasks):
        raise RuntimeError(f"simulator crashed in the batch of {t0.task_id}")
    out = []
    for t in tasks:
        label = t.index % 10
        out.append({"class_rtl": label, "class_golden": label, "spike_mismatches": 0,
                    "sim_time_s": 0.3, "wall_s": 0.6 / len(tasks), "lost_events": 0,
                    "label": label, "batch": {"tasks": [x.task_id for x in tasks]}})
    return out
