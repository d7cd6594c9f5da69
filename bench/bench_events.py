"""Speed of the event data layer (one core): reader rates per format, framing vs reading,
and the default-dataset emulation. Prints rates and ratios side by side; no assertions.

Target (issue 3): >= 10 million events/s for N-MNIST .bin and AEDAT 2.0 on one core, and
framing a sample into T windows cheaper than reading it.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import events as E  # noqa: E402
from events.datasets import NMNIST, nmnist_dir  # noqa: E402
from events.default_dataset import default_samples  # noqa: E402
from events.framing import frame_events  # noqa: E402

N_EVENTS = int(os.environ.get("P2M_BENCH_EVENTS", "5000000"))


def best_of(fn, repeat=3):
    best = float("inf")
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> int:
    rng = np.random.default_rng(0)
    n = N_EVENTS
    ev34 = E.make_events(rng.integers(0, 34, n), rng.integers(0, 34, n),
                         np.sort(rng.integers(0, (1 << 23) - 1, n)), rng.integers(0, 2, n))
    ev128 = E.make_events(rng.integers(0, 128, n), rng.integers(0, 128, n),
                          np.sort(rng.integers(0, 60_000_000, n)), rng.integers(0, 2, n))
    rows = []
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        cases = [
            ("N-MNIST .bin", d / "a.bin", lambda p: E.write_nmnist_bin(p, ev34)),
            ("AEDAT 2.0", d / "a.aedat", lambda p: E.write_aedat2(p, ev128)),
            ("AEDAT 3.1", d / "g.aedat", lambda p: E.write_aedat31(p, ev128, packet_events=8192)),
            ("AEDAT 4.0 (LZ4)", d / "a.aedat4",
             lambda p: E.write_aedat4(p, ev128, sensor_size=(128, 128), packet_events=8192)),
            (".npz (compressed)", d / "a.npz", lambda p: E.write_npz(p, ev128, (128, 128))),
        ]
        print(f"reader throughput, {n:,} events per file, one core (best of 3):")
        print(f"  {'format':<20}{'MB':>8}{'seconds':>10}{'Mevents/s':>12}{'vs 10 M/s':>11}")
        for name, path, write in cases:
            write(path)
            mb = path.stat().st_size / 1e6
            sec, s = best_of(lambda p=path: E.read_events(p))
            assert len(s) == n
            rate = n / sec
            rows.append((name, rate))
            print(f"  {name:<20}{mb:>8.1f}{sec:>10.3f}{rate / 1e6:>12.1f}{rate / 1e7:>10.2f}x")

    # real files: per-file overhead included
    root = nmnist_dir()
    if (root / "train-labels.txt").exists():
        ds = NMNIST(root)
        paths = [s.path for s in ds.samples]
        sec, total = best_of(lambda: sum(len(E.read_events(p)) for p in paths), repeat=2)
        print(f"  real N-MNIST subset: {len(paths)} files, {total:,} events in {sec:.3f} s = "
              f"{total / sec / 1e6:.2f} Mevents/s ({sec / len(paths) * 1e6:.0f} us/file)")
        sample_path = paths[0]
    else:
        print(f"  real N-MNIST subset absent ({root}); framing uses an emulated sample")
        evs, _ = default_samples(1)
        sample_path = Path(tempfile.mkdtemp()) / "s.bin"
        E.write_nmnist_bin(sample_path, evs[0])

    # framing one sample vs reading it
    print("framing one N-MNIST sample vs reading it (median of 200):")
    s = E.read_events(sample_path)

    def med(fn, k=200):
        ts = []
        for _ in range(k):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        return float(np.median(ts))
    t_read = med(lambda: E.read_events(sample_path))
    print(f"  read: {t_read * 1e6:8.1f} us  ({len(s)} events)")
    for T, kw in ((10, {}), (3, {"window_us": 100_000}), (16, {"split_by": "number"})):
        t_fr = med(lambda T=T, kw=kw: frame_events(s.events, s.sensor_size, T, **kw))
        print(f"  frame T={T:<3} {str(kw):<26}{t_fr * 1e6:8.1f} us   frame/read = "
              f"{t_fr / t_read:.2f}")

    # emulation
    default_samples(1)  # warm-up: sklearn import, load_digits
    t0 = time.perf_counter()
    evs, _ = default_samples(200)
    sec = time.perf_counter() - t0
    tot = sum(e.size for e in evs)
    print(f"default dataset emulation: 200 samples in {sec:.2f} s = {200 / sec:.0f} samples/s "
          f"({tot / sec / 1e6:.2f} Mevents/s); all 1,797 ~ {1797 / (200 / sec):.1f} s")
    ok = all(r >= 1e7 for name, r in rows if name in ("N-MNIST .bin", "AEDAT 2.0"))
    print(f"target >= 10 Mevents/s for N-MNIST .bin and AEDAT 2.0: {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
