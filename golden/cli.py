"""``p2m train``, ``p2m eval``, ``p2m export``, ``p2m experiment``: the golden model's commands.

Checkpoint arguments take a checkpoint folder (or its ``model.json``) or the name of a
shipped checkpoint (``golden/checkpoints/<name>``, listed by ``p2m eval --help``).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path


def _csv_ints(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}") from None


def _fraction(text: str) -> float:
    """A noise level: 0.1 or 10 % (``10%``)."""
    t = text.strip()
    try:
        v = float(t[:-1]) / 100 if t.endswith("%") else float(t)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction (0.1) or a percentage (10%), "
                                         f"got {text!r}") from None
    if not 0 <= v <= 1:
        raise argparse.ArgumentTypeError(f"must lie in [0, 1] (0 % .. 100 %), got {text!r}")
    return v


def _threads(args) -> None:
    if getattr(args, "threads", None):
        import torch

        torch.set_num_threads(args.threads)


def _train(args) -> int:
    from golden.train import TrainConfig, train

    arch = {}
    if args.widths:
        arch["widths"] = args.widths
    if args.pool:
        arch["pool"] = [bool(v) for v in args.pool]
    for key in ("hidden", "tau"):
        if getattr(args, key) is not None:
            arch[key] = getattr(args, key)
    if args.channels is not None:
        arch["p2m_channels"] = args.channels
    if args.offset_trim:
        arch["offset_trim"] = True
    cfg = TrainConfig(dataset=args.dataset, data=args.data, mode=args.mode, noise=args.noise,
                      weights=args.weights, epochs=args.epochs, batch_size=args.batch_size,
                      lr=args.lr, weight_decay=args.weight_decay, seed=args.seed, T=args.T,
                      window_us=args.window_us, l1=args.l1, shift=args.shift,
                      quantize_from=args.quantize_from, trainable=args.trainable,
                      init=str(resolve_checkpoint(args.init)) if args.init else None,
                      limit=args.limit, arch=arch)
    command = "p2m train " + " ".join(shlex.quote(a) for a in sys.argv[2:]) \
        if len(sys.argv) > 1 and sys.argv[1] == "train" else None
    train(cfg, args.out, progress=not args.quiet, device=args.device, command=command,
          resume=not args.fresh, threads=args.threads)
    return 0


def _eval(args) -> int:
    from golden.evaluate import evaluate, format_result

    _threads(args)
    r = evaluate(resolve_checkpoint(args.checkpoint), data=args.data, split=args.split,
                 mode=args.mode, noise=args.noise, quantize=not args.no_quantize,
                 chip_config=args.chip, variation_seed=args.variation_seed, limit=args.limit,
                 progress=not args.json, device=args.device, seed=args.seed,
                 offset_trim=args.offset_trim)
    if args.json:
        print(json.dumps(r, indent=1))
    else:
        print(format_result(r))
    if args.record:
        from golden.evaluate import record

        path = record(resolve_checkpoint(args.checkpoint), r)
        print(f"recorded the {r['mode']} accuracy in {path}", file=sys.stderr)
    return 0


def _export(args) -> int:
    from golden.checkpoint import load_net
    from golden.export import export_chip_config

    ck = resolve_checkpoint(args.checkpoint)
    net, meta = load_net(ck)
    cfg = export_chip_config(net, int(meta["train"]["window_us"]), variation=args.variation,
                             variation_seed=args.variation_seed, device_preset=args.preset,
                             meta={"checkpoint": str(ck), "dataset": meta["train"]["dataset"],
                                   "T": int(meta["train"]["T"])}, offset_trim=args.offset_trim)
    out = Path(args.out)
    if out.parent != Path(""):
        out.parent.mkdir(parents=True, exist_ok=True)
    cfg.save(out)
    signs = cfg.weight_sign
    print(f"wrote {out}: {cfg.weight_config} weights, {int((signs != 0).sum())} of "
          f"{signs.size} cells present, thresholds {sorted(set(cfg.threshold_codes.tolist()))}, "
          f"window {cfg.window_us} us, preset {cfg.device_preset}, variation "
          f"{cfg.variation} seed {cfg.variation_seed}, comparator offset trim "
          f"{'calibrated' if cfg.comparator_trim is not None else 'none'}")
    return 0


def _experiment(args) -> int:
    from golden.experiments import run_experiment

    _threads(args)
    arch = {}
    if args.widths:
        arch["widths"] = args.widths
    if args.hidden is not None:
        arch["hidden"] = args.hidden
    run_experiment(args.which, out=args.out, datasets=args.dataset, data=args.data,
                   epochs=args.epochs, progress=not args.quiet, seed=args.seed, arch=arch,
                   limit=args.limit)
    return 0


def shipped_dir() -> Path:
    """The folder of the checkpoints shipped with the package."""
    return Path(__file__).resolve().parent / "checkpoints"


def shipped_checkpoints() -> list[str]:
    d = shipped_dir()
    return sorted(p.name for p in d.iterdir() if (p / "model.json").is_file()) if d.is_dir() \
        else []


def resolve_checkpoint(name: str | Path) -> Path:
    """A checkpoint folder, its ``model.json``, or the name of a shipped checkpoint."""
    p = Path(name)
    if p.exists():
        return p
    if (shipped_dir() / str(name) / "model.json").is_file():
        return shipped_dir() / str(name)
    raise FileNotFoundError(f"{name}: no such checkpoint folder (shipped: "
                            f"{', '.join(shipped_checkpoints()) or 'none'})")


def register(subparsers) -> None:
    from golden.data import KINDS, SPLITS
    from golden.p2m_layer import MODES

    p = subparsers.add_parser(
        "train", help="train the golden SNN (P2M first layer + backend), resumable",
        description="Train on the dataset's train split (9:1 train/validation, seeded), write "
                    "a checkpoint folder (safetensors + JSON); running the same command again "
                    "resumes after the last finished epoch. GPU when present.")
    p.add_argument("--dataset", choices=KINDS, default="default")
    p.add_argument("--data", default=None, help="dataset folder (not for 'default')")
    p.add_argument("--mode", choices=("ideal", "fitted"), default="fitted")
    p.add_argument("--noise", type=_fraction, default=0.1,
                   help="f1/f2 noise: 0.1 or 10%% = the characterized spread (default 0.1)")
    p.add_argument("--weights", choices=("cmos", "mdwmtj", "cmos+x"), default="cmos+x")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--out", required=True, help="checkpoint folder")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--T", type=int, default=None, help="windows per sample (dataset default)")
    p.add_argument("--window-us", type=int, default=None,
                   help="integration window, us (dataset default)")
    p.add_argument("--l1", type=float, default=0.0,
                   help="bandwidth regularizer on the first-layer spike rate (Fig. 7)")
    p.add_argument("--shift", type=int, default=0,
                   help="augmentation: random translation up to N pixels")
    p.add_argument("--quantize-from", type=float, default=0.5,
                   help="fraction of the epochs after which the first layer trains on its "
                        "exported codes (default 0.5)")
    p.add_argument("--trainable", choices=("all", "first", "backend"), default="all")
    p.add_argument("--init", default=None, help="start from this checkpoint (fine-tuning)")
    p.add_argument("--limit", type=int, default=None,
                   help="at most N train and N validation samples (quick runs)")
    p.add_argument("--widths", type=_csv_ints, default=None,
                   help="conv layers 2..4 widths, e.g. 64,128,128")
    p.add_argument("--pool", type=_csv_ints, default=None,
                   help="max pooling after layers 1..4 (0/1), e.g. 1,1,1,0")
    p.add_argument("--hidden", type=int, default=None, help="hidden linear width (512)")
    p.add_argument("--channels", type=int, default=None, help="first-layer channels (32)")
    p.add_argument("--offset-trim", action="store_true",
                   help="train for a chip whose comparators are offset-trimmed at rest "
                        "(analog_models.calibration): the noise has no threshold term and "
                        "only the V_pre spread the trim leaves; the export carries the trim")
    p.add_argument("--tau", type=float, default=None, help="LIF time constant (2)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    p.add_argument("--device", default=None, help="cpu, cuda, ... (default: GPU if present)")
    p.add_argument("--fresh", action="store_true", help="start over, ignoring a saved state")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_train)

    shipped = ", ".join(shipped_checkpoints()) or "none yet"
    p = subparsers.add_parser(
        "eval", help="accuracy, bandwidth and backend energy of a checkpoint",
        description=f"Evaluate a checkpoint (a folder, or a shipped one: {shipped}) on a "
                    "split of its dataset; mode chip runs the first layer on one device-level "
                    "chip instance and reports its agreement with the fitted model.")
    p.add_argument("checkpoint")
    p.add_argument("--data", default=None, help="dataset folder (default: the checkpoint's)")
    p.add_argument("--split", choices=SPLITS, default="test")
    p.add_argument("--mode", choices=MODES, default=None,
                   help="default: the mode the checkpoint was trained in")
    p.add_argument("--noise", type=_fraction, default=None,
                   help="fitted-mode noise during evaluation (default: the trained noise, "
                        "the hardware's spread; 0: the nominal curves)")
    p.add_argument("--no-quantize", action="store_true",
                   help="fitted mode on the continuous weights instead of the exported codes")
    p.add_argument("--chip", default=None, help="chip configuration JSON for --mode chip "
                   "(default: the checkpoint's export)")
    p.add_argument("--variation-seed", type=int, default=0,
                   help="chip instance of --mode chip without --chip (default 0)")
    p.add_argument("--offset-trim", action=argparse.BooleanOptionalAction, default=None,
                   help="--mode chip without --chip: the chip with (or without) its "
                        "comparators' offset trim calibrated at rest (default: as the "
                        "checkpoint was trained)")
    p.add_argument("--limit", type=int, default=None, help="only the first N samples")
    p.add_argument("--seed", type=int, default=0, help="seed of the evaluation noise")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--record", action="store_true",
                   help="store the result as the checkpoint's recorded accuracy for this mode "
                        "(regression.json, what make test reproduces)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--device", default=None)
    p.set_defaults(func=_eval)

    p = subparsers.add_parser(
        "export", help="write the chip configuration of a checkpoint's first layer",
        description="Weight, transistor and threshold codes, window, device preset and "
                    "variation seed: the file the testbench programs over APB.")
    p.add_argument("checkpoint")
    p.add_argument("--out", required=True, help="chip configuration JSON")
    p.add_argument("--variation-seed", type=int, default=0)
    p.add_argument("--variation", choices=("paper", "none"), default="paper")
    p.add_argument("--preset", default="paper2024", help="device preset")
    p.add_argument("--offset-trim", action=argparse.BooleanOptionalAction, default=None,
                   help="with (or without) the instance's comparator offset-trim codes, "
                        "calibrated at rest (default: as the checkpoint was trained)")
    p.set_defaults(func=_export)

    p = subparsers.add_parser(
        "experiment", help="the paper's Table 1, Table 2 and Fig. 7 on the datasets present",
        description="Train and evaluate what the paper's table/figure needs; write Markdown, "
                    "CSV and PNG with the paper's numbers beside ours.")
    p.add_argument("which", choices=("table1", "table2", "fig7"))
    p.add_argument("--dataset", action="append", choices=KINDS, default=None,
                   help="repeatable; default: every dataset present (default, nmnist if "
                        "P2M_NMNIST_DIR or --data holds it)")
    p.add_argument("--data", action="append", default=None,
                   help="dataset folders, in the order of --dataset")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--widths", type=_csv_ints, default=None,
                   help="conv layers 2..4 widths of every run, e.g. 32,64,64")
    p.add_argument("--hidden", type=int, default=None)
    p.add_argument("--limit", type=int, default=None,
                   help="at most N samples per split (a quick run)")
    p.add_argument("--out", default="out/experiments")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_experiment)
