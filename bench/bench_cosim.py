"""``p2m cosim`` scaling: the same campaign (4 test samples of the default dataset, the
shipped checkpoint's chip), one simulation per sample, with 1 and with 2 Dask workers, side by
side in one run; goal: 2 workers at least 1.6x as fast as 1 on 2 cores. Beside them, the
same campaign on 2 workers with the samples spread over 2 simulations (``per_sim`` None, the
default of ``p2m cosim``: the simulator starts and the chip is programmed once per
simulation), under Icarus and under Verilator (``--sim verilator``), with each sample's
streaming real-time factor. The simulator builds are done once before the timing (every
campaign reuses the cached build).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path


def main(argv=None) -> int:
    from golden.cli import resolve_checkpoint
    from tb.campaign import plan, run_campaign
    from tb.cosim import DEFAULT_CHECKPOINT

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=4)
    args = ap.parse_args(argv)
    ck = resolve_checkpoint(DEFAULT_CHECKPOINT)
    root = Path(tempfile.mkdtemp(prefix="p2m_bench_cosim_"))
    try:
        warm = root / "warm"  # builds the simulation once (cached for every campaign)
        for sim in ("icarus", "verilator"):
            run_campaign(plan(ck, warm / sim, 1, sim=sim), warm / sim, workers=1,
                         progress=False)
        wall, rtf = {}, {}
        runs = {"1 worker, 1 sample per simulation": (1, 1, "icarus"),
                "2 workers, 1 sample per simulation": (2, 1, "icarus"),
                "2 workers, samples spread over them": (2, None, "icarus"),
                "2 workers, spread, Verilator": (2, None, "verilator")}
        for name, (workers, per_sim, sim) in runs.items():
            out = root / f"w{workers}_{per_sim}_{sim}"
            tasks = plan(ck, out, args.samples, sim=sim)
            t0, t_wall = time.perf_counter(), time.time()
            s = run_campaign(tasks, out, workers=workers, per_sim=per_sim, progress=False)
            rtf[name] = s["realtime_factor"]
            wall[name] = time.perf_counter() - t0
            assert s["finished"] == args.samples, s["failures"]
            for f in sorted((out / "results").glob("*.json")):
                r = json.loads(f.read_text())
                print(f"    {name}: {f.stem}: pid {r['worker_pid']} "
                      f"{r['started'] - t_wall:6.1f} .. {r['finished'] - t_wall:6.1f} s")
            print(f"    {name}: {s['simulations']} simulation(s)")
        one, two, spread, veri = wall.values()
        rtf_icarus, rtf_verilator = list(rtf.values())[2:]
        ratio = one / two
        print(f"p2m cosim, {args.samples} samples (default test split, shipped checkpoint):")
        for name, w in wall.items():
            print(f"  {name:<38} {w:6.1f} s   streaming real-time factor {rtf[name]:.2f}")
        print(f"  2 workers / 1 worker speed-up {ratio:.2f}x (goal >= 1.6x on 2 cores): "
              f"{'met' if ratio >= 1.6 else 'NOT met'}")
        print(f"  samples spread over the workers' simulations / one simulation per sample "
              f"(2 workers): {two / spread:.2f}x")
        print(f"  Verilator / Icarus (2 workers, spread): campaign {spread / veri:.2f}x, "
              f"streaming {rtf_icarus / rtf_verilator:.2f}x")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
