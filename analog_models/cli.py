"""``p2m characterize``: the Monte Carlo characterization of the analog models."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path


def _characterize(args: argparse.Namespace) -> int:
    from analog_models.characterization import run_characterization
    from analog_models.fitted import DEFAULT_FILE

    n = 100 if args.quick else args.instances
    doc = run_characterization(args.out, n_instances=n, seed=args.seed, progress=True,
                               preset=args.preset, figures=not args.no_figures)
    if args.update_default:
        dst = Path(__file__).parent / "data" / DEFAULT_FILE
        shutil.copyfile(Path(args.out) / "f1f2.json", dst)
        print(f"updated the package default {dst}")
    failed = [r["quantity"] for r in doc["calibration"] if r["ok"] is False]
    if failed:
        print(f"note: outside the paper's band: {'; '.join(failed)}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "characterize",
        help="Monte Carlo characterization: f1/f2 JSON, figures, calibration vs the paper",
        description="Reproduce the paper's Fig. 1(b-d), 4 and 6(a-d) with the behavioural "
                    "models, fit f1/f2 and print the calibration table (ours vs the paper's).",
    )
    p.add_argument("--out", default="out/characterize", help="output folder (default %(default)s)")
    p.add_argument("--instances", type=int, default=1000,
                   help="Monte Carlo instances (default %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default %(default)s)")
    p.add_argument("--quick", action="store_true", help="100 instances (a smoke run)")
    p.add_argument("--preset", default="paper2024", help="device preset (default %(default)s)")
    p.add_argument("--no-figures", action="store_true", help="skip the PNGs")
    p.add_argument("--update-default", action="store_true",
                   help="also copy f1f2.json over the committed package default")
    p.set_defaults(func=_characterize)
