"""``p2m cosim``: many samples (and Monte Carlo chip instances) co-simulated in parallel on
Dask distributed, resumable, with a merged JUnit XML and a summary.

A campaign is a folder:

* ``chips/chip_seed<k>.json``: the checkpoint's exported chip configuration for chip
  instance ``k`` (its static variation seed);
* ``results/<task>.json``: one finished task (sample ``i`` on chip ``k``: ``s<i>_c<k>``),
  written atomically by the worker; a task whose file exists is not run again, so an
  interrupted campaign resumes where it stopped;
* ``sim_build/<task>/``: each simulation's folder, named after its first task (log; FST
  and GTKWave layout with ``waves``, for the first task);
* ``junit.xml``: one test case per task (passed: the RTL's spikes equal the golden chip
  mode's in matched timing and the RTL's class equals the golden model's);
* ``summary.json`` / ``summary.md``: ``samples``, ``chip_accuracy``, ``golden_accuracy``,
  ``class_agreement``, ``spike_mismatches``, ``realtime_factor`` (of the streaming),
  ``simulations``, ``samples_per_hour`` (this run's throughput) and the failures.

Parallelism: a ``distributed.LocalCluster`` with ``workers`` single-threaded processes by
default, or the scheduler at ``scheduler`` (``tcp://host:8786``).

Samples per simulation (``per_sim``): the pending tasks are grouped into batches of up to
``per_sim`` consecutive samples on the same chip instance (:func:`batches`), and each batch
is one simulation (``tb.cosim.run_samples``: the simulator starts and the chip is
programmed once, a global reset before each sample, the receiver reseeded with each task's
seed; each sample's spikes and timing are what it gives alone). A simulation's start-up and
programming cost several seconds, a sample's streaming one to three (docs/verification.md
"Several samples per simulation": 4 samples of the demo's chip in one simulation 2.4x
faster per sample than one per simulation). ``per_sim=None`` (the default) spreads the
pending samples evenly over the workers, at most :data:`MAX_PER_SIM` per simulation;
``per_sim=1`` gives one simulation per sample. The task with ``waves`` is a batch of its own. Each sample still has its own result
file, JUnit test case and summary entry; its ``wall_s`` is its share of the simulation's
wall time, and ``batch`` names the simulation (its tasks, wall time, seed, folder).

Failures: a batch that raises is retried once (``retries``). A batch of several samples
that still fails, or whose worker died, is split: each of its samples runs again in a
simulation of its own, so that only the sample that fails is recorded as a failure, with its
error. No task is missing from the summary, and the next run of the campaign runs the failed
ones again. Results are written when a simulation ends, so an interrupted campaign loses at
most the batches in flight.

The work itself is ``runner(task) -> dict`` for one task or ``batch_runner(tasks) ->
[dict]`` for a batch (default :func:`run_batch`, which calls ``tb.cosim.run_samples``); the
orchestration is tested with stand-in runners.
"""

from __future__ import annotations

import json
import os
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

#: the most samples ``per_sim=None`` puts into one simulation: start-up and programming
#: (about 5 s) spread over 16 samples, while an interrupted campaign loses at most 16
#: samples per worker (results are written when a simulation ends)
MAX_PER_SIM = 16

SUMMARY_KEYS = ("samples", "chip_accuracy", "golden_accuracy", "class_agreement",
                "spike_mismatches", "realtime_factor")


@dataclass(frozen=True)
class Task:
    """One co-simulation: sample ``index`` of a split on the chip of ``chip_seed``."""

    task_id: str
    index: int
    chip_seed: int
    chip_path: str
    checkpoint: str
    dataset: str
    data: str | None
    split: str
    backpressure: str
    seed: int
    build_dir: str
    timeout_s: float
    waves: bool = False
    sim: str = "icarus"


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def run_task(task: Task) -> dict[str, Any]:
    """Co-simulate one task (runs in a Dask worker): read the sample, run the RTL with the
    analog bridge against the golden chip mode (``tb.cosim.run_sample``)."""
    from golden.data import open_split
    from tb.cosim import run_sample

    ds = open_split(task.dataset, task.data, task.split)
    events, label = ds[task.index]
    r = run_sample(task.chip_path, events, sample_id=task.task_id, seed=task.seed,
                   backpressure=task.backpressure, build_dir=task.build_dir,
                   timeout_s=task.timeout_s, checkpoint=task.checkpoint, waves=task.waves,
                   sim=task.sim)
    r["label"] = int(label)
    return r


def run_batch(tasks: list[Task]) -> list[dict[str, Any]]:
    """Co-simulate a batch (runs in a Dask worker): its samples streamed through one
    simulation (``tb.cosim.run_samples``, in the first task's folder), the HDL receiver
    reseeded with each task's seed at its sample (so a sample times as it does alone); one
    result per task, in order."""
    from golden.data import open_split
    from tb.cosim import run_samples

    if len(tasks) == 1:
        return [run_task(tasks[0])]
    t = tasks[0]
    ds = open_split(t.dataset, t.data, t.split)
    samples, labels = [], []
    for task in tasks:
        events, label = ds[task.index]
        samples.append((task.task_id, events))
        labels.append(int(label))
    res = run_samples(t.chip_path, samples, seed=t.seed, seeds=[x.seed for x in tasks],
                      backpressure=t.backpressure,
                      build_dir=t.build_dir, timeout_s=max(x.timeout_s for x in tasks),
                      checkpoint=t.checkpoint, waves=t.waves, sim=t.sim)
    batch = {"tasks": [x.task_id for x in tasks], "wall_s": res["wall_s"],
             "seed": res.get("seed", t.seed), "build_dir": res["build_dir"]}
    out = []
    for task, r, label in zip(tasks, res["samples"], labels, strict=True):
        r = dict(r)
        r.update(label=label, wall_s=res["wall_s"] / len(tasks), programming=res["programming"],
                 build_dir=res["build_dir"], wakeups_by_kind=res.get("wakeups_by_kind"),
                 seed=task.seed, batch=batch)
        out.append(r)
    return out


@dataclass(frozen=True)
class EachTask:
    """A batch runner from a one-task runner (picklable for the Dask workers)."""

    runner: Callable[[Task], dict]

    def __call__(self, tasks: list[Task]) -> list[dict]:
        return [self.runner(t) for t in tasks]


def batches(tasks: list[Task], per_sim: int) -> list[list[Task]]:
    """``tasks`` in simulations of up to ``per_sim`` consecutive tasks that can share one:
    the same chip instance, checkpoint, data, backpressure and simulator; a task with
    ``waves`` alone."""
    if per_sim < 1:
        raise ValueError(f"per_sim (samples per simulation) must be >= 1, got {per_sim}")

    def shared(t: Task) -> tuple:  # what the tasks of one simulation have in common
        return t.chip_path, t.checkpoint, t.dataset, t.data, t.split, t.backpressure, t.sim

    out: list[list[Task]] = []
    for t in tasks:
        last = out[-1] if out else None
        if (last and not t.waves and not last[0].waves and len(last) < per_sim
                and shared(last[0]) == shared(t)):
            last.append(t)
        else:
            out.append([t])
    return out


def auto_per_sim(n_pending: int, slots: int) -> int:
    """Samples per simulation for ``per_sim=None``: the pending samples spread evenly over
    the ``slots`` workers, between 1 and :data:`MAX_PER_SIM`."""
    return max(1, min(MAX_PER_SIM, -(-n_pending // max(1, slots))))


def _worker(tasks: list[Task], results_dir: str,
            runner: Callable[[list[Task]], list[dict]]) -> list[dict]:
    """Run a batch and store one result file per task (atomic); each result carries its
    task."""
    t0, started = time.perf_counter(), time.time()
    rs = list(runner(tasks))
    if len(rs) != len(tasks):
        raise RuntimeError(f"the runner returned {len(rs)} results for {len(tasks)} tasks")
    out = []
    for task, r in zip(tasks, rs, strict=True):
        r = dict(r)
        r.setdefault("wall_s", (time.perf_counter() - t0) / len(tasks))
        r.update(started=started, finished=time.time(), worker_pid=os.getpid())
        r["task"] = asdict(task)
        r["status"] = "ok"
        _atomic_write(Path(results_dir) / f"{task.task_id}.json", json.dumps(r) + "\n")
        out.append(r)
    return out


def load_results(results_dir: Path) -> dict[str, dict]:
    """Finished tasks of a campaign folder (unreadable files are ignored: they run again)."""
    out = {}
    for f in sorted(results_dir.glob("*.json")):
        try:
            r = json.loads(f.read_text())
        except (json.JSONDecodeError, OSError):
            continue
        if r.get("status") == "ok":
            out[f.stem] = r
    return out


def _passed(r: dict) -> bool:
    return (r.get("status") == "ok" and r.get("spike_mismatches", 1) == 0
            and r.get("class_rtl") == r.get("class_golden"))


def summarize(tasks: list[Task], results: dict[str, dict], failures: dict[str, str],
              wall_s: float, ran: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
    """The campaign summary (module docstring); every task is counted, failed ones too.
    ``ran``: the tasks this run finished (its throughput)."""
    ok = [results[t.task_id] for t in tasks if t.task_id in results]
    n = len(ok)

    def frac(pred) -> float | None:
        return sum(1 for r in ok if pred(r)) / n if n else None

    # the real-time factor of the streaming (wall over sensor time), without the build and
    # the programming of each simulation (stream_wall_s of tb.cosim; wall_s if absent)
    sim_s = sum(r.get("sim_time_s", 0.0) for r in ok)
    wall = sum(r.get("stream_wall_s", r.get("wall_s", 0.0)) for r in ok)
    sims = {tuple((r.get("batch") or {}).get("tasks") or [r.get("task", {}).get("task_id")])
            for r in ok}
    return {
        "samples": len(tasks), "finished": n, "failed": len(failures), "simulations": len(sims),
        "chip_accuracy": frac(lambda r: r.get("class_rtl") == r.get("label")),
        "golden_accuracy": frac(lambda r: r.get("class_golden") == r.get("label")),
        "class_agreement": frac(lambda r: r.get("class_rtl") == r.get("class_golden")),
        "spike_mismatches": sum(int(r.get("spike_mismatches", 0)) for r in ok),
        "samples_with_spike_mismatches": sum(1 for r in ok if r.get("spike_mismatches")),
        "lost_events": sum(int(r.get("lost_events", 0)) for r in ok),
        "realtime_factor": (wall / sim_s) if sim_s > 0 else None,
        "task_wall_s": sum(r.get("wall_s", 0.0) for r in ok),
        "campaign_wall_s": wall_s,
        # what a regression over many samples cares about: finished samples per hour of this
        # run's wall time (None when nothing ran: a campaign resumed with nothing pending)
        "samples_per_hour": 3600.0 * len(ran) / wall_s if ran and wall_s > 0 else None,
        "failures": failures,
    }


def write_junit(path: Path, tasks: list[Task], results: dict[str, dict],
                failures: dict[str, str]) -> None:
    """One test case per task, in one test suite (JUnit XML, as pytest writes it)."""
    suite = ET.Element("testsuite", name="p2m_cosim", tests=str(len(tasks)))
    n_fail = n_err = 0
    for t in tasks:
        r = results.get(t.task_id)
        case = ET.SubElement(suite, "testcase", classname="p2m_cosim", name=t.task_id,
                             time=f"{(r or {}).get('wall_s', 0.0):.3f}")
        if t.task_id in failures:
            n_err += 1
            ET.SubElement(case, "error", message="task failed").text = failures[t.task_id]
        elif r is None:
            n_err += 1
            ET.SubElement(case, "error", message="no result")
        elif not _passed(r):
            n_fail += 1
            ET.SubElement(case, "failure", message=(
                f"spike mismatches {r.get('spike_mismatches')}, class rtl "
                f"{r.get('class_rtl')} vs golden {r.get('class_golden')}, seed {t.seed}"))
    suite.set("failures", str(n_fail))
    suite.set("errors", str(n_err))
    root = ET.Element("testsuites")
    root.append(suite)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def _markdown(s: dict) -> str:
    def pct(v):
        return "-" if v is None else f"{100 * v:.2f} %"

    def num(v):
        return "-" if v is None else f"{v:.2f}"

    sph = s.get("samples_per_hour")
    rate = "-" if sph is None else f"{sph:,.0f}"
    lines = ["# p2m cosim summary", "",
             "| quantity | value |", "|---|---|",
             f"| samples (tasks) | {s['samples']} ({s['finished']} finished, {s['failed']} "
             f"failed; {s.get('simulations', s['finished'])} simulation(s)) |",
             f"| chip accuracy (RTL + analog) | {pct(s['chip_accuracy'])} |",
             f"| golden accuracy | {pct(s['golden_accuracy'])} |",
             f"| class agreement RTL vs golden | {pct(s['class_agreement'])} |",
             f"| spike mismatches (neuron-windows) | {s['spike_mismatches']} in "
             f"{s['samples_with_spike_mismatches']} samples |",
             f"| lost input events | {s['lost_events']} |",
             "| real-time factor of the streaming (wall / sensor time) | "
             f"{num(s['realtime_factor'])} |",
             f"| campaign wall time | {s['campaign_wall_s']:.1f} s |",
             f"| throughput (samples run per hour of wall time) | {rate} |"]
    if s["failures"]:
        lines += ["", "## Failed tasks", ""]
        lines += [f"- `{k}`: {v.splitlines()[-1] if v else ''}" for k, v in s["failures"].items()]
    return "\n".join(lines) + "\n"


def plan(checkpoint: str | Path, out: Path, samples: int, chips: int = 1,
         data: str | None = None, split: str = "test", backpressure: str = "none",
         seed: int = 0, timeout_s: float = 600.0, first: int = 0,
         waves: bool = False, sim: str = "icarus") -> list[Task]:
    """The tasks of a campaign: samples ``first .. first + samples - 1`` of the split, each
    on chip instances 0..chips-1 (their configurations exported to ``out/chips``), under the
    simulator ``sim`` (icarus or verilator); ``waves``: the first task also writes an FST
    and its GTKWave layout (under Icarus, which dumps the FST, whatever ``sim``)."""
    from golden.checkpoint import load_net
    from golden.evaluate import default_data
    from golden.export import export_chip_config

    if samples < 1 or chips < 1:
        raise ValueError(f"--samples and --chips must be >= 1, got {samples}, {chips}")
    if backpressure not in ("none", "random"):
        raise ValueError(f"--backpressure: none or random, got {backpressure!r}")
    if sim not in ("icarus", "verilator"):
        raise ValueError(f"--sim: icarus or verilator, got {sim!r}")
    if sim == "verilator":
        from tb.run import verilator_missing

        why = verilator_missing()
        if why:
            raise FileNotFoundError(f"--sim verilator: {why}")
    net, meta = load_net(checkpoint)
    kind = meta["train"]["dataset"]
    folder = data if data is not None else default_data(kind, meta["train"].get("data"))
    (out / "chips").mkdir(parents=True, exist_ok=True)
    tasks = []
    for k in range(chips):
        chip = out / "chips" / f"chip_seed{k}.json"
        if not chip.exists():
            export_chip_config(net, int(meta["train"]["window_us"]), variation_seed=k,
                               meta={"checkpoint": str(checkpoint)}).save(chip)
        for i in range(first, first + samples):
            tid = f"s{i}_c{k}"
            tasks.append(Task(tid, i, k, str(chip.resolve()), str(Path(checkpoint).resolve()),
                              kind, folder, split, backpressure, seed + i,
                              str((out / "sim_build" / tid).resolve()), timeout_s,
                              waves and not tasks,
                              "icarus" if waves and not tasks else sim))
    return tasks


def run_campaign(tasks: list[Task], out: Path, workers: int = 2, scheduler: str | None = None,
                 runner: Callable[[Task], dict] | None = None,
                 batch_runner: Callable[[list[Task]], list[dict]] | None = None,
                 per_sim: int | None = None, retries: int = 1, progress: bool = True,
                 worker_env: dict | None = None) -> dict[str, Any]:
    """Run the pending tasks on Dask, ``per_sim`` samples per simulation (module docstring;
    None: spread over the workers), then write junit.xml and the summary; returns it.
    ``runner`` (one task) or ``batch_runner`` (a batch; default :func:`run_batch`) does the
    work. ``worker_env``: environment variables of the LocalCluster's worker processes."""
    from distributed import Client, LocalCluster, as_completed

    if runner is not None and batch_runner is not None:
        raise ValueError("run_campaign: give runner or batch_runner, not both")
    work = EachTask(runner) if runner is not None else (batch_runner or run_batch)
    if per_sim is not None and per_sim < 1:
        raise ValueError(f"per_sim (samples per simulation) must be >= 1, got {per_sim}")

    out.mkdir(parents=True, exist_ok=True)
    results_dir = out / "results"
    results_dir.mkdir(exist_ok=True)
    done = load_results(results_dir)
    pending = [t for t in tasks if t.task_id not in done]
    failures: dict[str, str] = {}
    t0 = time.perf_counter()
    if pending:
        if scheduler:
            client, cluster = Client(scheduler), None
        else:
            cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1,
                                   processes=True, dashboard_address=None,
                                   env=dict(worker_env or {}))
            client = Client(cluster)
        try:
            # as many tasks in flight as the cluster has threads, the next one submitted
            # when one ends: Dask assigns submitted tasks to workers at once (these are not
            # "root-ish" for its queuing), so with all submitted up front a worker that
            # finished first sat idle while another worked through its queue (measured:
            # 1.3x on 2 workers instead of 1.8x)
            slots = max(1, sum(client.nthreads().values()))
            queue = batches(pending, per_sim or auto_per_sim(len(pending), slots))
            futures = {}
            in_flight = 0

            def submit(batch: list[Task]):
                nonlocal in_flight
                in_flight += 1
                fut = client.submit(_worker, batch, str(results_dir), work,
                                    key=f"{batch[0].task_id}+{len(batch) - 1}",
                                    retries=retries, pure=False)
                futures[fut] = batch
                return fut

            done_iter = as_completed([submit(b) for b in queue[:slots]], with_results=False)
            queue = queue[slots:]
            bar = None
            if progress:
                from tqdm.auto import tqdm

                bar = tqdm(total=len(pending), desc="co-simulation", unit="sample")
            for fut in done_iter:
                batch = futures[fut]
                in_flight -= 1
                try:
                    fut.result()
                except Exception as exc:  # noqa: BLE001 (recorded, never lost)
                    if len(batch) > 1:   # find the failing sample: one simulation each
                        queue[:0] = [[t] for t in batch]
                    else:
                        failures[batch[0].task_id] = f"{type(exc).__name__}: {exc}"
                        if bar is not None:
                            bar.update(1)
                else:
                    if bar is not None:
                        bar.update(len(batch))
                while queue and in_flight < slots:
                    done_iter.add(submit(queue.pop(0)))
            if bar is not None:
                bar.close()
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    results = load_results(results_dir)
    ran = {t.task_id for t in pending if t.task_id in results}
    summary = summarize(tasks, results, failures, time.perf_counter() - t0, ran)
    write_junit(out / "junit.xml", tasks, results, failures)
    _atomic_write(out / "summary.json", json.dumps(summary, indent=1) + "\n")
    _atomic_write(out / "summary.md", _markdown(summary))
    return summary
