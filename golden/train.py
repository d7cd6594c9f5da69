"""Training the golden network (``p2m train``): seeded, resumable, with progress bars.

:func:`train` trains a :class:`golden.network.P2MNet` on the ``train`` split of a dataset
(:mod:`golden.data`), selects on the ``val`` split (the paper's 9:1 split) and writes a
checkpoint folder (:mod:`golden.checkpoint`):

* ``model.*``: the epoch with the best validation accuracy (what ``p2m eval`` and
  ``p2m export`` read), with the hyper-parameters, the metrics of every epoch and the
  exact command;
* ``train_state.*``: the last finished epoch (model + optimizer), rewritten after every
  epoch. Running the same command again resumes after the last finished epoch; every
  epoch seeds its own random streams (``seed``, epoch), so a resumed run is the run that
  was not interrupted.

The first layer trains in ``fitted`` mode (or ``ideal``, the baseline) with the given
noise (ramped up from 0 over the first ``noise_warmup`` of the epochs); for the last part of the run (``quantize_from``) its weights and thresholds are
quantized to the codes the chip is programmed with (straight-through), so the exported
chip configuration is what was trained. ``l1`` adds the paper's bandwidth regularizer
(``l1`` x the mean first-layer spike rate, Fig. 7). ``trainable="first"`` fine-tunes only
the first layer (the paper's Table 2 reprogramming).
"""

from __future__ import annotations

import math
import shlex
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from golden import checkpoint as ck
from golden.cpu import keep_heap
from golden.data import CLASSES, DEFAULT_FRAMING, FramedSplit, open_split
from golden.evaluate import run_batches
from golden.network import NetConfig, P2MNet

TRAINABLE = ("all", "first", "backend")
#: Seed of the noise draws of the validation (the same draws every epoch).
VAL_SEED = 12345


@dataclass
class TrainConfig:
    """Everything that defines a training run (stored in the checkpoint's ``train``)."""

    dataset: str = "default"
    data: str | None = None
    mode: str = "fitted"
    noise: float = 0.1
    weights: str = "cmos+x"
    epochs: int = 30
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 0
    T: int | None = None
    window_us: int | None = None
    l1: float = 0.0
    shift: int = 0
    quantize_from: float = 0.5
    noise_warmup: float = 0.3  # fraction of the epochs over which the noise ramps up from 0
    trainable: str = "all"
    init: str | None = None
    limit: int | None = None  # at most this many train (and val) samples: quick runs, tests
    arch: dict = field(default_factory=dict)

    def framing(self) -> tuple[int, int]:
        """(T, window_us): the given ones or the dataset's default."""
        t, w = DEFAULT_FRAMING[self.dataset]
        return (self.T or t, self.window_us or w)

    def validate(self) -> None:
        from golden.data import KINDS

        if self.dataset not in KINDS:
            raise ValueError(f"dataset: must be one of {KINDS}, got {self.dataset!r}")
        if self.mode not in ("ideal", "fitted"):
            raise ValueError(f"mode: training runs in 'ideal' or 'fitted', got {self.mode!r} "
                             "(chip mode is for evaluation)")
        for name in ("epochs", "batch_size"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name}: must be a positive integer, got {v!r}")
        if not 0 <= self.noise <= 1:
            raise ValueError(f"noise: a fraction in [0, 1] (0.1 = 10 %), got {self.noise!r}")
        if not (self.lr > 0 and self.weight_decay >= 0 and self.l1 >= 0 and self.shift >= 0):
            raise ValueError("lr > 0, weight_decay >= 0, l1 >= 0 and shift >= 0 are required")
        if not 0 <= self.noise_warmup <= 1:
            raise ValueError(f"noise_warmup: a fraction of the epochs in [0, 1], "
                             f"got {self.noise_warmup!r}")
        if not 0 <= self.quantize_from <= 1:
            raise ValueError(f"quantize_from: a fraction of the epochs in [0, 1], "
                             f"got {self.quantize_from!r}")
        if self.trainable not in TRAINABLE:
            raise ValueError(f"trainable: one of {TRAINABLE}, got {self.trainable!r}")
        if self.limit is not None and (not isinstance(self.limit, int) or self.limit < 1):
            raise ValueError(f"limit: must be a positive integer, got {self.limit!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed: must be an integer >= 0, got {self.seed!r}")
        T, w = self.framing()
        if T < 1 or w < 1:
            raise ValueError(f"T and window_us must be >= 1, got {T}, {w}")

    def net_config(self, sensor_size: tuple[int, int]) -> NetConfig:
        kw = {"sensor_height": int(sensor_size[0]), "sensor_width": int(sensor_size[1]),
              "classes": CLASSES[self.dataset], "weight_config": self.weights, **self.arch}
        return NetConfig.from_dict(kw, "arch")

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


def pick_device(device: str | None = None) -> torch.device:
    """``device`` or the GPU when there is one, else the CPU."""
    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def batch_tensor(counts: np.ndarray, idx: np.ndarray, device: torch.device) -> torch.Tensor:
    """Counts of samples ``idx`` as float (T, B, P, H, W) on ``device``."""
    x = torch.from_numpy(np.asarray(counts[idx], dtype=np.float32))
    return x.transpose(0, 1).contiguous().to(device)


def random_shift(x: torch.Tensor, shift: int, gen: torch.Generator) -> torch.Tensor:
    """Translate each sample of ``x`` (T, B, P, H, W) by up to ``shift`` pixels in y and x
    (zero fill): the sensor sees the same scene a little displaced."""
    if shift <= 0:
        return x
    T, B, P, H, W = x.shape
    pad = F.pad(x, (shift, shift, shift, shift))
    off = torch.randint(0, 2 * shift + 1, (B, 2), generator=gen)
    out = torch.empty_like(x)
    for b in range(B):
        dy, dx = int(off[b, 0]), int(off[b, 1])
        out[:, b] = pad[:, b, :, dy:dy + H, dx:dx + W]
    return out


def _set_trainable(net: P2MNet, trainable: str) -> list[torch.nn.Parameter]:
    first = set(map(id, net.p2m.parameters()))
    params = []
    for p in net.parameters():
        on = trainable == "all" or (trainable == "first") == (id(p) in first)
        p.requires_grad_(on)
        if on:
            params.append(p)
    return params


def _lr_at(cfg: TrainConfig, epoch: int) -> float:
    """Cosine decay from ``lr`` to 0 over the run, per epoch (``epoch`` from 0)."""
    return cfg.lr * 0.5 * (1.0 + math.cos(math.pi * epoch / cfg.epochs))


def _noise_at(cfg: TrainConfig, epoch: int) -> float:
    """The training noise of ``epoch``: a linear ramp from 0 over the first ``noise_warmup``
    of the run (the noise-driven spikes would drown the first epochs' signal), then ``noise``."""
    ramp = cfg.noise_warmup * cfg.epochs
    return cfg.noise if ramp <= 0 else cfg.noise * min(1.0, (epoch + 1) / ramp)


def _quantized_at(cfg: TrainConfig, epoch: int) -> bool:
    return cfg.mode == "fitted" and epoch >= int(cfg.quantize_from * cfg.epochs)


def _same_run(a: dict, b: dict) -> str | None:
    """The first field in which two runs' settings differ (epochs may grow), else None."""
    for k in sorted(set(a) | set(b)):
        if k == "epochs":
            continue
        if a.get(k) != b.get(k):
            return k
    return None


def train(cfg: TrainConfig, out: str | Path, progress: bool = True, device: str | None = None,
          command: str | None = None, resume: bool = True, threads: int | None = None,
          log=print, _stop_after: int | None = None) -> dict[str, Any]:
    """Train (or resume) a run into the folder ``out``; return the ``model.json`` metadata.
    (``_stop_after``: stop after that many epochs of this call, as an interruption would;
    for the tests of resuming.)"""
    cfg.validate()
    out = Path(out)
    dev = pick_device(device)
    keep_heap()
    if threads:
        torch.set_num_threads(int(threads))
    T, window_us = cfg.framing()
    t_start = time.perf_counter()
    log(f"[train] {cfg.dataset}: mode {cfg.mode}, noise {cfg.noise:g}, weights {cfg.weights}, "
        f"T = {T} x {window_us} us, {cfg.epochs} epochs, device {dev}")
    def split(name: str) -> FramedSplit:
        ds = open_split(cfg.dataset, cfg.data, name)
        if cfg.limit is not None:
            ds = ds.subset(range(min(cfg.limit, len(ds))))
        return FramedSplit.build(ds, T, window_us, progress)

    train_split, val_split = split("train"), split("val")
    sensor = train_split.dataset.sensor_size
    torch.manual_seed(cfg.seed)  # the initial weights
    net = P2MNet(cfg.net_config(sensor))
    if cfg.init:
        init_net, _ = ck.load_net(cfg.init)
        ck.check_state(init_net.state_dict(), net, f"--init {cfg.init}", "the new arch")
        net.load_state_dict(init_net.state_dict())
    net.set_mode(cfg.mode, noise=cfg.noise, quantize=False)
    net.to(dev)
    params = _set_trainable(net, cfg.trainable)
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    train_meta = {**asdict(cfg), "T": T, "window_us": window_us}
    history: list[dict] = []
    best = {"val_accuracy": -1.0, "epoch": -1}
    first_epoch = 0
    state_json = out / f"{ck.TRAIN_STATE}.json"
    if resume and state_json.exists():
        tensors, meta = ck.load(out, ck.TRAIN_STATE)
        differs = _same_run(meta.get("train", {}), train_meta)
        if differs:
            raise ValueError(f"{state_json}: holds a run with another {differs!r} "
                             f"({meta['train'].get(differs)!r} != {train_meta.get(differs)!r});"
                             " use another --out, or --fresh to start over")
        ck.check_state({k: v for k, v in tensors.items() if not k.startswith("opt.")}, net,
                       str(out / f"{ck.TRAIN_STATE}.safetensors"))
        net.load_state_dict({k: v for k, v in tensors.items() if not k.startswith("opt.")})
        ck.load_optimizer(opt, tensors, meta["optimizer"])
        history, best = meta["history"], meta["best"]
        first_epoch = meta["epoch"] + 1
        log(f"[train] resuming {out} after epoch {meta['epoch'] + 1}/{cfg.epochs}")
    n = len(train_split)
    quant_scheduled = _quantized_at(cfg, cfg.epochs - 1)
    for epoch in range(first_epoch, cfg.epochs):
        t0 = time.perf_counter()
        torch.manual_seed(cfg.seed * 100_003 + epoch)
        gen = torch.Generator().manual_seed(cfg.seed * 100_003 + epoch)
        rng = np.random.default_rng([cfg.seed, epoch])
        for g in opt.param_groups:
            g["lr"] = _lr_at(cfg, epoch)
        net.train()
        net.set_mode(cfg.mode, noise=_noise_at(cfg, epoch), quantize=_quantized_at(cfg, epoch))
        order = rng.permutation(n)
        batches = [order[i:i + cfg.batch_size] for i in range(0, n, cfg.batch_size)]
        loss_sum, correct, rate_sum, seen = 0.0, 0, 0.0, 0
        it = batches
        if progress:
            from tqdm.auto import tqdm

            it = tqdm(batches, desc=f"epoch {epoch + 1}/{cfg.epochs}", unit="batch",
                      leave=False)
        for idx in it:
            idx = np.sort(idx)
            x = random_shift(batch_tensor(train_split.counts, idx, dev), cfg.shift, gen)
            y = torch.from_numpy(train_split.labels[idx]).to(dev)
            out_logits = net(x)
            rate = net.last_spikes["p2m"].mean()
            loss = F.cross_entropy(out_logits, y) + cfg.l1 * rate
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            net.constrain_()
            loss_sum += float(loss.detach()) * idx.size
            correct += int((out_logits.argmax(1) == y).sum())
            rate_sum += float(rate.detach()) * idx.size
            seen += idx.size
            if progress:
                it.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{correct / seen:.3f}")
        net.eval()
        # validation as the chip sees it: the exported codes, the trained noise (the
        # characterized spread), one seeded draw
        net.set_mode(cfg.mode, noise=cfg.noise, quantize=cfg.mode == "fitted")
        torch.manual_seed(VAL_SEED)
        pv = run_batches(net, val_split.counts, ops=False)
        val_acc = float((pv["pred"] == val_split.labels).mean())
        rec = {"epoch": epoch + 1, "lr": _lr_at(cfg, epoch), "noise": _noise_at(cfg, epoch),
               "train_loss": loss_sum / n,
               "train_accuracy": correct / n, "p2m_rate": rate_sum / n,
               "val_accuracy": val_acc, "seconds": time.perf_counter() - t0,
               "quantized": _quantized_at(cfg, epoch)}
        history.append(rec)
        log(f"[train] epoch {epoch + 1}/{cfg.epochs}: loss {rec['train_loss']:.4f}, train "
            f"{100 * rec['train_accuracy']:.2f} %, val {100 * val_acc:.2f} %, first-layer "
            f"rate {rec['p2m_rate']:.4f}, {rec['seconds']:.1f} s")
        # the best epoch; among the quantized ones when the run quantizes (what is exported)
        eligible = rec["quantized"] or not quant_scheduled
        if eligible and val_acc > best["val_accuracy"]:
            best = {"val_accuracy": val_acc, "epoch": epoch + 1}
            _save_model(out, net, train_meta, history, best, command)
        state = {k: v for k, v in net.state_dict().items()}
        opt_t, opt_meta = ck.optimizer_tensors(opt)
        ck.save(out, ck.TRAIN_STATE, {**state, **opt_t},
                {"train": train_meta, "epoch": epoch, "history": history, "best": best,
                 "optimizer": opt_meta})
        if _stop_after is not None and epoch + 1 - first_epoch >= _stop_after:
            return ck.load(out, ck.TRAIN_STATE)[1]
    tensors, meta = ck.load(out)
    meta["metrics"]["history"] = history  # every epoch, also those after the best one
    ck.save(out, ck.MODEL, tensors, {k: v for k, v in meta.items()
                                     if k not in ("schema", "version", "tensors_sha256")})
    log(f"[train] done in {time.perf_counter() - t_start:.0f} s: best val "
        f"{100 * best['val_accuracy']:.2f} % (epoch {best['epoch']}) -> {out}")
    return ck.load(out)[1]


def _save_model(out: Path, net: P2MNet, train_meta: dict, history: list, best: dict,
                command: str | None) -> None:
    import platform

    meta = {"arch": net.cfg.to_dict(), "train": train_meta,
            "metrics": {"best": best, "history": history},
            "command": command or "p2m train " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
            "torch": torch.__version__, "python": platform.python_version(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    ck.save(out, ck.MODEL, net.state_dict(), meta)
