"""Library entry of the closed-loop co-simulation: one (or a few) event samples through the
RTL under Icarus with the analog bridge, scored against the golden ``chip`` mode.

``p2m cosim`` (tb.campaign, Dask) calls :func:`run_sample` once per task, in worker
processes: each call runs one cocotb simulation (tb/cosim_tb.py) in its own test directory
``build_dir`` (the compiled simulator is shared and cached by tb.run), so calls run in
parallel processes. :func:`run_samples` streams several samples through one simulation
(programming once: faster per sample).

Returned dict (JSON-serializable), per sample:

* ``aer_spikes``: every AER event as ``[window, ch, y, x]`` in arrival order;
  ``spikes_per_window`` (RTL) and ``golden_spikes_per_window``;
* ``spikes_identical`` / ``spike_mismatches``: against the golden chip mode in matched
  timing (differing neuron-windows; ``mismatch_per_window``, ``rtl_only``, ``golden_only``);
  ``spike_mismatches_measured``: against the golden model told the measured reset instants
  (0 unless the bridge is wrong or an overrun merged windows); ``reset_instant_deviations``,
  ``reset_shift_max_ns``,
  ``events_in_reset_shift``, ``latch_delay_max_ns``;
* ``class_rtl`` / ``class_golden`` (with a ``checkpoint``): the backend's class from the AER
  stream and from the golden chip mode's spikes;
* ``wall_s`` (this call, build and start-up included), ``stream_wall_s`` (the streamed
  windows only), ``sim_time_s`` (sensor seconds simulated), ``realtime_factor``
  (stream_wall_s / sim_time_s), ``wakeups``, ``wakeups_per_window``, ``wakeups_per_event``;
* ``lost_events`` (input events of windows the chip did not sample on time),
  ``overrun_windows`` (CNT_OVERRUN), ``windows_missed``, ``events_dropped`` (events after
  the last window), ``aer_fifo_overflow``;
* ``sample_id``, ``seed``, ``backpressure``, ``T``, ``window_us``, ``events``.

Errors: :class:`CosimError` (a simulation that failed, naming the seed and the replay
command; a hung one, naming where it stopped), ``ValueError`` for a chip configuration
that does not fit the RTL or events outside its sensor, ``FileNotFoundError`` for a
missing simulator.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from analog_models.chip_config import ChipConfig
from tb.bridge_core import check_events
from tb.program_chip import check_programmable

#: The shipped checkpoint the chip-level tests, ``p2m cosim`` and its bench use.
DEFAULT_CHECKPOINT = "default-cmosx-fitted10"
BACKPRESSURES = ("none", "random")


class CosimError(RuntimeError):
    """A co-simulation that failed or hung; the message says where and how to replay it."""


def find_checkpoint(name: str = DEFAULT_CHECKPOINT) -> Path | None:
    """The checkpoint folder ``name`` resolves to (golden.cli.resolve_checkpoint: a folder or
    a shipped name), None when it has no model."""
    from golden.cli import resolve_checkpoint

    try:
        p = Path(resolve_checkpoint(name))
        if (p / "model.json").is_file() or p.suffix == ".json":
            return p
    except FileNotFoundError:
        pass
    return None


def shipped_chip_skip(dut) -> str | None:
    """Why the closed-loop tests on the shipped checkpoint's chip cannot run on the toplevel
    ``dut`` (None when they can): no trained checkpoint, or an RTL geometry other than the
    checkpoint's (the default chip: 32 channels of 16 x 16 neurons, 2 polarities, 3 x 3
    kernels)."""
    from tb.config import Geometry
    from tb.program_chip import rtl_geometry

    if find_checkpoint() is None:
        return "no trained checkpoint (tb.cosim.find_checkpoint)"
    g, d = Geometry.from_dut(dut), Geometry()
    if rtl_geometry(g) != rtl_geometry(d):
        return (f"the shipped checkpoint's chip has {d.n_ch} channels of {d.out_h}x{d.out_w} "
                f"neurons, {d.n_pol} polarities and {d.ksize}x{d.ksize} kernels; this RTL "
                f"{g.n_ch} of {g.out_h}x{g.out_w}, {g.n_pol} and {g.ksize}x{g.ksize}")
    return None


def default_chip(out: str | Path, variation_seed: int = 0,
                 checkpoint: str | Path | None = None) -> tuple[Path, Path, int] | None:
    """``(chip config path, checkpoint, T)``: the checkpoint's first layer exported as a chip
    configuration into ``out`` (reused when already there); None when no checkpoint
    resolves."""
    ck = Path(checkpoint) if checkpoint else find_checkpoint()
    if ck is None:
        return None
    from golden.checkpoint import load_net
    from golden.export import export_chip_config

    net, meta = load_net(ck)
    tr = meta["train"]
    sha = str(meta.get("tensors_sha256", ""))[:12]  # a retrained checkpoint: a new file
    path = Path(out) / f"chip_{ck.name}_{sha}_seed{variation_seed}.json"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        export_chip_config(net, int(tr["window_us"]), variation_seed=variation_seed,
                           meta={"checkpoint": str(ck)}).save(path)
    return path, ck, int(tr["T"])


def write_job(folder: Path, chip_config: str | Path, samples: list[tuple[str, np.ndarray]],
              *, T: int, seed: int, seeds: list[int] | None = None,
              backpressure: str = "none", rst_width: int = 16,
              per_event: bool = False, tap_interval_us: float | None = None,
              checkpoint: str | Path | None = None, flags: str = "bridge",
              timeout_s: float | None = None) -> Path:
    """The job file of tb/cosim_tb.py in ``folder`` (events as .npy beside it)."""
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for i, (sid, ev) in enumerate(samples):
        p = folder / f"events_{i}.npy"
        np.save(p, np.asarray(ev))
        entries.append({"id": str(sid), "events": str(p),
                        "seed": None if seeds is None else int(seeds[i])})
    job = {"chip_config": str(Path(chip_config).resolve()), "samples": entries, "T": int(T),
           "seed": int(seed), "backpressure": backpressure, "rst_width": int(rst_width),
           "per_event": bool(per_event), "tap_interval_us": tap_interval_us,
           "checkpoint": str(checkpoint) if checkpoint else None, "flags": flags,
           "timeout_s": timeout_s, "out": str(folder / "cosim_result.json"),
           "watchdog": str(folder / "watchdog.json")}
    path = folder / "cosim_job.json"
    path.write_text(json.dumps(job, indent=1) + "\n")
    return path


def run_samples(chip_config_path: str | Path, samples: list[tuple[str, np.ndarray]], *,
                seed: int = 0, seeds: list[int] | None = None, backpressure: str = "none",
                waves: bool = False,
                build_dir: str | Path | None = None, timeout_s: float | None = 600.0,
                checkpoint: str | Path | None = None, T: int | None = None,
                rst_width: int = 16, per_event: bool = False, sim: str | None = None,
                flags: str = "bridge") -> dict[str, Any]:
    """Stream ``samples`` (``[(sample_id, events)]``, events a structured array x, y, t us,
    p) through one simulation of the chip programmed with ``chip_config_path``; returns
    ``{"samples": [per-sample dict (module docstring)], "programming": {...}, "wall_s",
    "build_dir", "seed"}``. ``T``: windows per sample (default: the checkpoint's, else
    enough windows to cover the longest sample). ``waves``: FST + GTKWave layout in
    ``build_dir`` with the taps drawn every 1/64 window. ``timeout_s``: the watchdog of each
    stage (the programming, each sample), wall seconds; None: none. ``seeds``: one per
    sample: the HDL receiver's delays restart from it at that sample (a sample then times
    as it does alone with that seed); None: one sequence from ``seed`` for the whole
    simulation."""
    from tb.run import REPO, SimFailure, run_test

    if backpressure not in BACKPRESSURES:
        raise ValueError(f"backpressure: one of {BACKPRESSURES}, got {backpressure!r}")
    if shutil.which("iverilog") is None and (sim or "icarus") == "icarus":
        raise FileNotFoundError("iverilog: Icarus Verilog is not installed (make sim-tools)")
    cfg = ChipConfig.load(chip_config_path)
    check_programmable(cfg)
    g = cfg.geometry
    for sid, ev in samples:
        try:
            check_events(ev, (g.sensor_height, g.sensor_width), g.polarities)
        except ValueError as exc:
            raise ValueError(f"sample {sid}: {exc}") from None
    if T is None:
        if checkpoint:
            ck = Path(checkpoint)
            meta = ck if ck.suffix == ".json" else ck / "model.json"
            T = int(json.loads(meta.read_text())["train"]["T"])
        else:
            t_max = max((int(np.asarray(ev["t"]).max()) for _, ev in samples if len(ev)),
                        default=0)
            T = t_max // cfg.window_us + 1
    tag = "_".join(str(s[0]) for s in samples)[:40] or "empty"
    folder = Path(build_dir) if build_dir else REPO / "sim_build" / f"cosim_{tag}"
    tap = cfg.window_us / 64 if waves else None
    if seeds is not None and len(seeds) != len(samples):
        raise ValueError(f"seeds: one per sample, got {len(seeds)} for {len(samples)}")
    job = write_job(folder, chip_config_path, samples, T=T, seed=seed, seeds=seeds,
                    backpressure=backpressure, rst_width=rst_width, per_event=per_event,
                    tap_interval_us=tap, checkpoint=checkpoint, flags=flags,
                    timeout_s=timeout_s)
    out = folder / "cosim_result.json"
    dog = folder / "watchdog.json"
    for stale in (out, dog):
        stale.unlink(missing_ok=True)
    t0 = time.perf_counter()
    try:
        run_test("cosim_tb", seed=seed, waves=waves, build_dir=folder, quiet=True,
                 log_file=folder / "sim.log", sim=sim,
                 extra_env={"P2M_COSIM_JOB": str(job), "COCOTB_LOG_LEVEL": "WARNING"})
    except (SimFailure, RuntimeError) as exc:  # the runner raises RuntimeError on a bad exit
        if dog.is_file():
            d = json.loads(dog.read_text())
            raise CosimError(f"co-simulation hung: a stage ran longer than {d['timeout_s']} s "
                             f"wall (the watchdog of the programming and of each sample), "
                             f"stopped at {d['where']} (log {folder / 'sim.log'})") from None
        raise CosimError(str(exc)) from None
    if not out.is_file():
        raise CosimError(f"co-simulation wrote no result ({folder / 'sim.log'})")
    res = json.loads(out.read_text())
    res.update(wall_s=time.perf_counter() - t0, build_dir=str(folder))
    return res


def run_sample(chip_config_path: str | Path, events: np.ndarray, *, sample_id: str = "0",
               seed: int = 0, backpressure: str = "none", waves: bool = False,
               build_dir: str | Path | None = None, timeout_s: float | None = 600.0,
               checkpoint: str | Path | None = None, T: int | None = None,
               rst_width: int = 16, sim: str | None = None) -> dict[str, Any]:
    """One sample through one simulation (:func:`run_samples` with one sample); returns its
    dict (module docstring) with ``wall_s`` the whole call and ``programming``."""
    res = run_samples(chip_config_path, [(sample_id, events)], seed=seed,
                      backpressure=backpressure, waves=waves, build_dir=build_dir,
                      timeout_s=timeout_s, checkpoint=checkpoint, T=T, rst_width=rst_width,
                      sim=sim)
    r = dict(res["samples"][0])
    r.update(wall_s=res["wall_s"], programming=res["programming"],
             build_dir=res["build_dir"], wakeups_by_kind=res.get("wakeups_by_kind"))
    return r
