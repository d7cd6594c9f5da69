"""``p2m cosim`` scaling: the same campaign (4 test samples of the default dataset, the
shipped checkpoint's chip) with 1 and with 2 Dask workers, side by side in one run; goal:
2 workers at least 1.6x as fast as 1 on 2 cores. The simulator build is done once before
the timing (both campaigns reuse the cached build).
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
        warm = root / "warm"  # builds the simulation once (cached for both campaigns)
        run_campaign(plan(ck, warm, 1), warm, workers=1, progress=False)
        wall = {}
        for workers in (1, 2):
            out = root / f"w{workers}"
            tasks = plan(ck, out, args.samples)
            t0, t_wall = time.perf_counter(), time.time()
            s = run_campaign(tasks, out, workers=workers, progress=False)
            wall[workers] = time.perf_counter() - t0
            assert s["finished"] == args.samples, s["failures"]
            for f in sorted((out / "results").glob("*.json")):
                r = json.loads(f.read_text())
                print(f"    {workers} worker(s) {f.stem}: pid {r['worker_pid']} "
                      f"{r['started'] - t_wall:6.1f} .. {r['finished'] - t_wall:6.1f} s")
        ratio = wall[1] / wall[2]
        print(f"p2m cosim, {args.samples} samples (default test split, shipped checkpoint):")
        print(f"  1 worker   {wall[1]:6.1f} s")
        print(f"  2 workers  {wall[2]:6.1f} s   speed-up {ratio:.2f}x (goal >= 1.6x on 2 "
              f"cores): {'met' if ratio >= 1.6 else 'NOT met'}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
