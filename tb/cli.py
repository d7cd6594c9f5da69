"""``p2m sim ...``: run a cocotb testbench of the RTL (delegates to :mod:`tb.run`).

* ``p2m sim TEST [--seed N] [--waves]``: build and run ``tb/TEST.py`` under Icarus;
* ``p2m sim --list``: the test modules;
* ``p2m sim TEST --waves-only``: open the last FST of TEST in GTKWave.
"""

from __future__ import annotations


def _at_least_one(text: str) -> int:
    """argparse type: an integer >= 1."""
    n = int(text)
    if n < 1:
        import argparse

        raise argparse.ArgumentTypeError(f"must be >= 1, got {n}")
    return n


def register(subparsers) -> None:
    p = subparsers.add_parser("sim", help="run a cocotb testbench of the RTL (Icarus or "
                                          "Verilator)",
                              description="Run a cocotb + pyuvm testbench of p2m_top (or of a "
                                          "block) under Icarus Verilog or Verilator (see "
                                          "docs/verification.md).")
    p.add_argument("test", nargs="?", help="test module, e.g. test_aer_readout")
    p.add_argument("--seed", type=int, default=None, help="random seed (replays a failure)")
    p.add_argument("--waves", action="store_true", help="dump an FST + GTKWave save file")
    p.add_argument("--waves-only", action="store_true", help="open the last FST in GTKWave")
    p.add_argument("--testcase", default=None, help="only this cocotb test")
    p.add_argument("--sim", choices=("icarus", "verilator"), default=None,
                   help="simulator (default: env SIM, else icarus)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="toplevel parameter, e.g. --param N_CH=4 (repeatable: the chip's "
                        "geometry N_CH, OUT_H, OUT_W, FLAG_SETTLE, N_POL, KSIZE)")
    p.add_argument("--list", action="store_true", help="list the test modules")
    p.set_defaults(func=_sim)

    p = subparsers.add_parser(
        "cosim", help="co-simulate many samples (and chip instances) in parallel on Dask",
        description="The RTL under Icarus (or Verilator) with the analog bridge, checked "
                    "against the golden chip mode spike for spike; resumable (finished "
                    "samples are not run again); merged JUnit XML and a summary (Markdown, "
                    "JSON).")
    p.add_argument("--checkpoint", default=None,
                   help="checkpoint folder or shipped name (default: tb.cosim."
                        "DEFAULT_CHECKPOINT, the shipped checkpoint of the chip-level tests)")
    p.add_argument("--data", default=None, help="dataset folder (default: the checkpoint's)")
    p.add_argument("--split", default="test", choices=("train", "val", "test"))
    p.add_argument("--samples", type=int, default=4, help="samples per chip instance")
    p.add_argument("--first", type=int, default=0, help="index of the first sample")
    p.add_argument("--chips", type=int, default=1, help="Monte Carlo chip instances (seeds)")
    p.add_argument("--backpressure", choices=("none", "random"), default="none")
    p.add_argument("--sim", choices=("icarus", "verilator"), default="icarus",
                   help="simulator (Verilator: about 3x faster per sample once built, the "
                        "build about a minute, cached; the --waves sample runs under Icarus)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes")
    p.add_argument("--scheduler", default=None, help="a Dask scheduler address instead")
    p.add_argument("--per-sim", type=_at_least_one, default=None, metavar="K",
                   help="samples per simulation (the chip is programmed once per "
                        "simulation; default: the samples spread over the workers, at most "
                        "16 per simulation; 1: one simulation per sample)")
    p.add_argument("--timeout", type=float, default=900.0,
                   help="watchdog of the programming and of each sample, s")
    p.add_argument("--waves", action="store_true",
                   help="the first sample also writes an FST + GTKWave layout")
    p.add_argument("--out", default="out/cosim", help="campaign folder (resumable)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_cosim)


def _cosim(args) -> int:
    import json
    from pathlib import Path

    from golden.cli import resolve_checkpoint
    from tb.campaign import SUMMARY_KEYS, plan, run_campaign
    from tb.cosim import DEFAULT_CHECKPOINT

    out = Path(args.out)
    tasks = plan(resolve_checkpoint(args.checkpoint or DEFAULT_CHECKPOINT), out, args.samples,
                 chips=args.chips, data=args.data, split=args.split, backpressure=args.backpressure,
                 seed=args.seed, timeout_s=args.timeout, first=args.first, waves=args.waves,
                 sim=args.sim)
    s = run_campaign(tasks, out, workers=args.workers, scheduler=args.scheduler,
                     per_sim=args.per_sim, progress=not args.json)
    if args.json:
        print(json.dumps(s, indent=1))
    else:
        print((out / "summary.md").read_text())
        print(f"JUnit: {out / 'junit.xml'}; results: {out / 'results'}")
        for t in tasks:
            if t.waves:
                for f in sorted(Path(t.build_dir).rglob("*.gtkw")):
                    fst = next(iter(sorted(f.parent.glob("*.fst"))), None)
                    print(f"waves: gtkwave {fst} {f}")
    missing = [k for k in SUMMARY_KEYS if k not in s]
    assert not missing, missing
    return 0 if not s["failures"] else 1


def _sim(args) -> int:
    from tb import run

    if args.list or not args.test:
        print("\n".join(run.TESTS))
        return 0 if args.list else 2
    argv = [args.test]
    if args.seed is not None:
        argv += ["--seed", str(args.seed)]
    if args.waves:
        argv.append("--waves")
    if args.waves_only:
        argv.append("--waves-only")
    if args.testcase:
        argv += ["--testcase", args.testcase]
    if args.sim:
        argv += ["--sim", args.sim]
    for p in args.param:
        argv += ["--param", p]
    return run.main(argv)
