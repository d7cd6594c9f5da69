"""Evaluating a checkpoint (``p2m eval``): accuracy, bandwidth, backend energy; in ``chip``
mode also how the chip's spikes compare with the ``fitted`` model's.

The dataset kind, the framing (T, window_us) and the data folder default come from the
checkpoint; the split is the dataset's own (:mod:`golden.data`, default ``test``).

Modes: ``ideal`` and ``fitted`` run on the window counts (``fitted`` with ``quantize``
(default) uses exactly the exported codes; ``noise`` defaults to the noise the checkpoint
was trained with, i.e. the hardware's spread (0 gives the nominal curves), drawn from
``seed``);
``chip`` runs the first layer on one chip instance (:class:`golden.chip.ChipFirstLayer`,
the checkpoint's exported configuration with ``variation_seed``, or a given chip
configuration file) and the backend on its spikes. Fitted vs chip agreement is reported,
not assumed: per sample the first-layer spike sets of the chip and of the quantized,
nominal ``fitted`` model, and their classes.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from analog_models.chip_config import ChipConfig
from golden.checkpoint import load_net
from golden.chip import ChipFirstLayer
from golden.cpu import keep_heap
from golden.data import FramedSplit, open_split
from golden.energy import EnergyModel, backend_energy, frontend_comparison, layer_ops
from golden.export import check_matches, export_chip_config
from golden.network import P2MNet
from golden.p2m_layer import MODES


def run_batches(net: P2MNet, counts: np.ndarray, batch_size: int = 64,
                first_spikes: np.ndarray | None = None, progress: bool = False,
                desc: str = "eval", ops: bool = True) -> dict[str, Any]:
    """Forward every sample (no gradient): predictions (N,), first-layer spikes
    (N, T, C, OH, OW) bool, per-layer synaptic operations (for the energy model)."""
    from tqdm.auto import tqdm

    device = next(net.parameters()).device
    n = len(counts)
    preds, spikes, op_counts = [], [], {}
    starts = range(0, n, batch_size)
    if progress:
        starts = tqdm(starts, desc=desc, unit="batch", leave=False)
    with torch.no_grad():
        for s in starts:
            sl = slice(s, min(n, s + batch_size))
            x = torch.from_numpy(np.asarray(counts[sl], dtype=np.float32)).transpose(0, 1)
            x = x.contiguous().to(device)
            fs = None
            if first_spikes is not None:
                fs = torch.from_numpy(first_spikes[sl].astype(np.float32)).transpose(0, 1)
                fs = fs.contiguous().to(device)
            out = net(x, first_spikes=fs)
            preds.append(out.argmax(1).cpu().numpy())
            spikes.append(net.last_spikes["p2m"].transpose(0, 1).cpu().numpy() > 0)
            if ops:
                for k, v in layer_ops(net, x).items():
                    op_counts.setdefault(k, []).append(v.cpu().numpy().reshape(-1))
    cat = {k: np.concatenate(v) for k, v in op_counts.items()}
    return {"pred": np.concatenate(preds) if preds else np.zeros(0, np.int64),
            "spikes": np.concatenate(spikes) if spikes else np.zeros((0,), bool),
            "ops": cat}


def default_data(kind: str, trained_on: str | None) -> str | None:
    """The data folder of a checkpoint's dataset when none is given: the folder it was
    trained on if it exists here, else (N-MNIST) ``$P2M_NMNIST_DIR``."""
    if kind == "default":
        return None
    if trained_on and Path(trained_on).is_dir():
        return trained_on
    env = os.environ.get("P2M_NMNIST_DIR") if kind == "nmnist" else None
    if env and Path(env).is_dir():
        return env
    raise FileNotFoundError(f"--data: the checkpoint was trained on {kind!r} at "
                            f"{trained_on!r}, which is not here; give --data DIR"
                            + (" or set P2M_NMNIST_DIR" if kind == "nmnist" else ""))


REGRESSION = "regression.json"


def record(checkpoint: str | Path, result: dict[str, Any]) -> Path:
    """Store ``result``'s accuracy as the checkpoint's recorded value for its mode
    (``<checkpoint>/regression.json``), with what reproduces it (split, limit, seed, noise)."""
    folder = Path(checkpoint)
    folder = folder if folder.is_dir() else folder.parent
    path = folder / REGRESSION
    doc = json.loads(path.read_text()) if path.exists() else \
        {"schema": "p2m-golden-regression", "version": 1, "entries": {}}
    entry = {k: result.get(k) for k in ("split", "limit", "seed", "noise", "n_samples",
                                         "accuracy", "bandwidth", "energy_backend_norm")}
    if result["mode"] == "chip":
        entry.update(chip=result["chip"], fitted_accuracy=result["fitted_accuracy"],
                     fitted_noisy_accuracy=result["fitted_noisy_accuracy"],
                     agreement=result["agreement"])
    doc["entries"][result["mode"]] = entry
    path.write_text(json.dumps(doc, indent=1) + "\n")
    return path


def evaluate(checkpoint: str | Path, data: str | Path | None = None, split: str = "test",
             mode: str | None = None, noise: float | None = None, quantize: bool = True,
             chip_config: str | Path | None = None, variation_seed: int = 0,
             limit: int | None = None, batch_size: int = 64, progress: bool = True,
             device: str | None = None, seed: int = 0,
             energy_model: EnergyModel | None = None,
             offset_trim: bool | None = None) -> dict[str, Any]:
    """Evaluate ``checkpoint`` on a split (module docstring); returns the metrics dict
    (``accuracy`` 0-1, ``n_samples``, ``bandwidth``, ``energy_backend_norm``, ...).
    ``offset_trim``: the exported chip (without ``chip_config``) with its comparators'
    offset trim calibrated (analog_models.calibration); None: as the network was trained."""
    keep_heap()
    t0 = time.perf_counter()
    net, meta = load_net(checkpoint)
    if device:
        net.to(device)
    tr = meta["train"]
    kind = tr["dataset"]
    mode = mode or tr["mode"]
    if mode not in MODES:
        raise ValueError(f"mode: must be one of {MODES}, got {mode!r}")
    ds = open_split(kind, data if data is not None else default_data(kind, tr.get("data")), split)
    if limit is not None:
        if limit < 1:
            raise ValueError(f"limit: must be >= 1, got {limit}")
        ds = ds.subset(range(min(limit, len(ds))))
    T, window_us = int(tr["T"]), int(tr["window_us"])
    framed = FramedSplit.build(ds, T, window_us, progress)
    torch.manual_seed(seed)
    result: dict[str, Any] = {"checkpoint": str(checkpoint), "dataset": kind, "split": split,
                              "mode": mode, "T": T, "window_us": window_us,
                              "n_samples": len(framed), "limit": limit, "seed": seed}
    first = None
    if mode == "chip":
        if chip_config is not None:
            config = ChipConfig.load(chip_config)
            check_matches(config, net, str(chip_config))
            if config.window_us != window_us:
                raise ValueError(f"{chip_config}: window_us is {config.window_us}, the "
                                 f"checkpoint was trained with {window_us}")
        else:
            config = export_chip_config(net, window_us, variation_seed=variation_seed,
                                        offset_trim=offset_trim)
        chip = ChipFirstLayer(config, T)
        samples = [ds[i][0] for i in range(len(ds))]
        first = chip.run_many(samples, progress=progress)
        result["chip"] = {"variation": config.variation,
                          "variation_seed": int(config.variation_seed),
                          "device_preset": config.device_preset,
                          "offset_trim": config.comparator_trim is not None}
        net.set_mode("fitted", noise=0.0, quantize=True)
        ref = run_batches(net, framed.counts, batch_size, progress=progress, desc="fitted")
        torch.manual_seed(seed)
        net.set_mode("fitted", noise=float(tr["noise"]), quantize=True)
        ref_noisy = run_batches(net, framed.counts, batch_size, progress=progress,
                                desc="fitted+noise")
    else:
        if noise is None:
            noise = float(tr["noise"]) if mode == "fitted" else 0.0
        net.set_mode(mode, noise=noise, quantize=quantize)
        result.update(noise=noise, quantize=quantize if mode == "fitted" else None)
    res = run_batches(net, framed.counts, batch_size, first_spikes=first, progress=progress,
                      desc=mode)
    labels = framed.labels
    result["accuracy"] = float(np.mean(res["pred"] == labels)) if len(labels) else float("nan")
    events = framed.input_events()
    spikes = res["spikes"].reshape(len(labels), -1).sum(1)
    result["bandwidth"] = float(np.mean(spikes / np.maximum(events, 1)))
    result["input_events_mean"] = float(events.mean()) if len(events) else 0.0
    result["first_layer_spikes_mean"] = float(spikes.mean()) if len(spikes) else 0.0
    energy = backend_energy(res["ops"], energy_model or EnergyModel())
    result["energy_backend_norm"] = energy["energy_backend_norm"]
    result["energy"] = energy
    if not net.p2m.reprogram:
        result["frontend_energy"] = frontend_comparison(
            net, window_us, result["input_events_mean"], T, result["first_layer_spikes_mean"])
    if mode == "chip":
        a, b = res["spikes"], ref["spikes"]
        both = np.logical_and(a, b).sum()
        either = np.logical_or(a, b).sum()
        result["fitted_accuracy"] = float(np.mean(ref["pred"] == labels))
        result["fitted_noisy_accuracy"] = float(np.mean(ref_noisy["pred"] == labels))
        result["fitted_noise"] = float(tr["noise"])
        result["agreement"] = {
            "neuron_windows_equal": float(np.mean(a == b)),
            "spike_jaccard": float(both / either) if either else 1.0,
            "chip_spikes_mean": float(a.reshape(len(labels), -1).sum(1).mean()),
            "fitted_spikes_mean": float(b.reshape(len(labels), -1).sum(1).mean()),
            "class_agreement": float(np.mean(res["pred"] == ref["pred"])),
            "class_agreement_noisy": float(np.mean(res["pred"] == ref_noisy["pred"])),
        }
    result["predictions"] = res["pred"].tolist()
    result["seconds"] = time.perf_counter() - t0
    return result


def format_result(r: dict[str, Any]) -> str:
    """The human-readable report of :func:`evaluate` (assumptions printed with the numbers)."""
    lines = [f"{r['checkpoint']}: {r['dataset']} {r['split']}, {r['n_samples']} samples, "
             f"mode {r['mode']}" + (f" (noise {r['noise']:g}, quantized {r['quantize']})"
                                    if r["mode"] == "fitted" else ""),
             f"  accuracy            {100 * r['accuracy']:.2f} %",
             f"  bandwidth           {r['bandwidth']:.4f} (first-layer spikes / input events; "
             f"{r['first_layer_spikes_mean']:.0f} / {r['input_events_mean']:.0f} per sample)",
             f"  backend energy      {r['energy_backend_norm']:.3f} of the conventional "
             f"system ({1e9 * r['energy']['p2m_J']:.2f} nJ vs "
             f"{1e9 * r['energy']['conventional_J']:.2f} nJ per sample)",
             f"    assumptions: {r['energy']['assumptions']}"]
    fe = r.get("frontend_energy")
    if fe:
        parts = ", ".join(f"{k} {1e12 * v['per_event_J']:.2f} pJ/event + "
                          f"{1e9 * v['per_window_read_J']:.3f} nJ/window read"
                          for k, v in fe.items())
        lines.append(f"  front-end energy    {parts} (nominal devices; "
                     f"{1e12 * fe[next(iter(fe))]['per_reset_neuron_J']:.3f} pJ per reset "
                     "neuron)")
    if r["mode"] == "chip":
        ag = r["agreement"]
        c = r["chip"]
        lines += [f"  chip instance       {c['device_preset']}, variation {c['variation']}, "
                  f"seed {c['variation_seed']}, comparator offset trim "
                  f"{'on' if c.get('offset_trim') else 'off'}",
                  (f"  fitted accuracy     {100 * r['fitted_noisy_accuracy']:.2f} % (quantized, "
                   f"with the trained noise {r['fitted_noise']:g}: the model the chip is held "
                   f"to); {100 * r['fitted_accuracy']:.2f} % nominal (no noise)"
                   if r["fitted_noise"] else
                   f"  fitted accuracy     {100 * r['fitted_accuracy']:.2f} % (quantized, "
                   f"nominal: the model the chip is held to)"),
                  f"  chip vs fitted      {100 * ag['neuron_windows_equal']:.2f} % of neuron-"
                  f"windows equal to the nominal model, spike Jaccard {ag['spike_jaccard']:.3f}, "
                  f"spikes {ag['chip_spikes_mean']:.0f} vs {ag['fitted_spikes_mean']:.0f} per "
                  f"sample; same class as the nominal model {100 * ag['class_agreement']:.1f} %, "
                  f"as the model with the trained noise "
                  f"{100 * ag['class_agreement_noisy']:.1f} %"]
    lines.append(f"  ({r['seconds']:.1f} s)")
    return "\n".join(lines)
