#!/usr/bin/env python3
"""Ship a trained checkpoint with the package: copy it, record its regression values, and
write its README (the command and seed that made it, its results).

    python scripts/ship_checkpoint.py RUN_DIR NAME [--data DIR] [--limit N]

Copies ``RUN_DIR/model.{json,safetensors}`` to ``golden/checkpoints/NAME/`` (not the
training state), evaluates it on its test split in ``fitted`` (the trained noise, seeded),
``chip`` (chip instance 0) and ``ideal`` mode (the same weights through the digital
baseline, for reference), records the first two in ``regression.json`` (what
``tests/test_golden_regression.py`` reproduces) and writes ``README.md``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main(argv=None) -> int:
    from golden.evaluate import evaluate, format_result, record

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run")
    ap.add_argument("name")
    ap.add_argument("--data", default=None)
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args(argv)
    src, dst = Path(args.run), REPO / "golden" / "checkpoints" / args.name
    dst.mkdir(parents=True, exist_ok=True)
    for f in ("model.json", "model.safetensors"):
        shutil.copyfile(src / f, dst / f)
    (dst / "regression.json").unlink(missing_ok=True)
    meta = json.loads((dst / "model.json").read_text())
    results = {}
    for mode in ("fitted", "chip", "ideal"):
        r = evaluate(dst, data=args.data, split="test", mode=mode, limit=args.limit, seed=0,
                     progress=False)
        results[mode] = r
        print(format_result(r))
        if mode != "ideal":
            record(dst, r)
    tr = meta["train"]
    best = meta["metrics"]["best"]
    f, c = results["fitted"], results["chip"]
    data_note = ("the built-in emulated digits (no download)" if tr["dataset"] == "default"
                 else "the real N-MNIST subset `../shared/data/nmnist-small` (900 recordings "
                      "for training and validation, a fixed seeded hold-out of 100 for the "
                      "test; `P2M_NMNIST_DIR`)")
    trim = bool(meta["arch"].get("offset_trim"))
    noise_note = (f"at {100 * tr['noise']:g} % noise (the characterized spread, "
                  "docs/golden.md)" if tr["noise"] else "without noise (the nominal curves)")
    if trim:
        noise_note += (", for a chip whose comparators are offset-trimmed at rest "
                       "(`--offset-trim`, docs/golden.md \"Offset trim\": the export carries "
                       "each instance's trim codes)")
    chip_note = "variation seed 0" + (", offset trim calibrated" if trim else "")
    readme = f"""# `{args.name}`

Trained by `p2m train` on {data_note}: {tr['weights']} weights, `{tr['mode']}` first layer {noise_note}, T = {tr['T']}
windows of {tr['window_us'] / 1000:g} ms, seed {tr['seed']}, {tr['epochs']} epochs (the
best validation epoch among the quantized ones: {best['epoch']}, validation
{100 * best['val_accuracy']:.2f} %).

```bash
{meta['command']}
```

(`--threads 1` on a shared 2-core CPU; {sum(h['seconds'] for h in meta['metrics']['history']) / 60:.0f} min.)

## Results on the test split ({f['n_samples']} samples)

| mode | accuracy | bandwidth | backend energy (of the conventional) |
|---|---|---|---|
| fitted, exported codes, {100 * f['noise']:g} % noise (seed 0) | {100 * f['accuracy']:.2f} % | {f['bandwidth']:.3f} | {f['energy_backend_norm']:.3f} |
| chip, one instance ({chip_note}) | {100 * c['accuracy']:.2f} % | {c['bandwidth']:.3f} | {c['energy_backend_norm']:.3f} |
| fitted, nominal (no noise) | {100 * c['fitted_accuracy']:.2f} % | | |
| ideal (the same weights through the digital baseline, not trained for it) | {100 * results['ideal']['accuracy']:.2f} % | | |

Chip vs fitted on the same samples: {100 * c['agreement']['neuron_windows_equal']:.2f} % of
the neuron-windows equal, spike Jaccard {c['agreement']['spike_jaccard']:.3f}, spikes per
sample {c['agreement']['chip_spikes_mean']:.0f} (chip) vs {c['agreement']['fitted_spikes_mean']:.0f}
(nominal fitted), same class on {100 * c['agreement']['class_agreement']:.1f} % of the samples.

`regression.json` holds the recorded fitted and chip accuracies that `make test`
reproduces (`tests/test_golden_regression.py`).
"""
    (dst / "README.md").write_text(readme)
    print(f"shipped {dst}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
