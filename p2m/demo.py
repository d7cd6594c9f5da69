"""`make demo` / `p2m demo`: the main job on the built-in default, end to end.

1. characterize the MDWMTJ array (Monte Carlo, f1/f2 fits, paper-style figures);
2. build a few samples of the built-in default event dataset (sklearn digits -> DVS
   emulation) and render one;
3. the golden model: the shipped default checkpoint on a few test samples in ``fitted``
   and ``chip`` mode, and its exported chip configuration;
4. co-simulate a few test samples: the exported chip configuration programmed over APB
   into the RTL under Icarus, the analog bridge serving its analog boundary, the AER
   output checked spike for spike against the golden chip mode and classified by the
   backend (``p2m cosim``), with waveforms of the first sample.

Everything lands under ``out_dir``; nothing needs a download.
"""

from __future__ import annotations

import time
from pathlib import Path

#: The shipped checkpoint of the built-in default dataset (golden/checkpoints/): trained for
#: a chip with its comparators offset-trimmed at rest (docs/golden.md "Offset trim"; the
#: export carries the trim). ``default-cmosx-fitted10`` is the untrimmed chip's.
DEFAULT_CHECKPOINT = "default-cmosx-trim10"


def _step(title: str) -> float:
    print(f"\n=== {title}", flush=True)
    return time.perf_counter()


def run_demo(out_dir: str | Path = "out", instances: int = 1000, seed: int = 0,
             sim: bool = True) -> dict:
    """Run the demo; return a summary dict. ``out_dir`` is created if needed."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary: dict = {}

    from analog_models.characterization import run_characterization

    n = 4 if sim else 3
    t0 = _step(f"1/{n} characterization: {instances} Monte Carlo instances, seed {seed}")
    summary["characterization"] = run_characterization(
        out / "characterize", n_instances=instances, seed=seed, progress=True
    )
    print(f"    done in {time.perf_counter() - t0:.1f} s -> {out / 'characterize'}")

    from events.cli import demo_events

    t0 = _step(f"2/{n} events: built-in default dataset (digits emulated as N-MNIST saccades)")
    summary["events"] = demo_events(out / "events", seed=seed)
    print(f"    done in {time.perf_counter() - t0:.1f} s -> {out / 'events'}")

    t0 = _step(f"3/{n} golden model: the shipped default checkpoint, fitted and chip mode")
    summary["golden"] = demo_golden(out / "golden", seed=seed)
    print(f"    done in {time.perf_counter() - t0:.1f} s -> {out / 'golden'}")

    if sim:
        t0 = _step(f"4/{n} co-simulation: the RTL under Icarus with the analog bridge, "
                   "checked spike for spike against the golden chip mode")
        summary["cosim"] = demo_cosim(out / "cosim", seed=seed)
        print(f"    done in {time.perf_counter() - t0:.1f} s -> {out / 'cosim'}")
    print(f"\nDemo outputs in {out.resolve()}")
    return summary


def demo_golden(out: Path, seed: int = 0, samples: int = 40) -> dict:
    """Evaluate the shipped default checkpoint on the first ``samples`` test samples in
    ``fitted`` and ``chip`` mode, export its chip configuration to ``out/chip.json``."""
    import json

    from golden.checkpoint import load_net
    from golden.cli import resolve_checkpoint
    from golden.evaluate import evaluate, format_result
    from golden.export import export_chip_config

    out.mkdir(parents=True, exist_ok=True)
    ck = resolve_checkpoint(DEFAULT_CHECKPOINT)
    net, meta = load_net(ck)
    cfg = export_chip_config(net, int(meta["train"]["window_us"]), variation_seed=seed,
                             meta={"checkpoint": DEFAULT_CHECKPOINT})
    cfg.save(out / "chip.json")
    results = {}
    for mode in ("fitted", "chip"):
        r = evaluate(ck, split="test", mode=mode, limit=samples, seed=seed, progress=False,
                     chip_config=out / "chip.json" if mode == "chip" else None)
        results[mode] = r
        print("\n".join("    " + line for line in format_result(r).splitlines()))
        (out / f"eval_{mode}.json").write_text(json.dumps(r, indent=1) + "\n")
    print(f"    chip configuration (what the testbench programs): {out / 'chip.json'}")
    return results


def demo_cosim(out: Path, seed: int = 0, samples: int = 3, workers: int = 2) -> dict:
    """``p2m cosim`` on the first ``samples`` test samples of the default dataset with the
    shipped checkpoint (waves for the first); prints the summary and where things are."""
    from golden.cli import resolve_checkpoint
    from tb.campaign import plan, run_campaign

    tasks = plan(resolve_checkpoint(DEFAULT_CHECKPOINT), out, samples, seed=seed, waves=True)
    s = run_campaign(tasks, out, workers=workers, progress=True)
    print("\n".join("    " + line for line in (out / "summary.md").read_text().splitlines()))
    first = Path(tasks[0].build_dir)
    fst = next(iter(sorted(first.glob("*.fst"))), None)
    gtkw = next(iter(sorted(first.glob("*.gtkw"))), None)
    print(f"    JUnit {out / 'junit.xml'}; per-sample results {out / 'results'}")
    if fst and gtkw:
        print(f"    waves (membrane of a probed neuron beside the AER handshake): "
              f"gtkwave {fst} {gtkw}")
    return s
