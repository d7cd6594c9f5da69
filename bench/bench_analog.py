"""Speed of the accumulator array: vectorized batch path vs the per-event reference, and
the comparator latch vs solving every divider.

On the paper's default chip (34x34 sensor, 2 polarities, 32 channels, 3x3 stride 2,
CMOS+X weights, variation on), one run measures events/s of
``AccumulatorArray.apply_events`` at several batch sizes and of
``apply_events_reference``, checks both end in the same state, and prints the ratio; then
the cost of one latch of all 32x16x16 comparators per window: the old way (``v_pre()``,
36-step bisection of every divider, then compare) beside ``sample()`` (the exact comparator
reformulation with cached per-neuron terms), after a window of events (most accumulators
moved) and after none, and checks both give the same flags.
Single core: BLAS/OpenMP threads are pinned to 1 before numpy is imported.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import time  # noqa: E402

import numpy as np  # noqa: E402

from analog_models.accumulator import AccumulatorArray  # noqa: E402
from analog_models.chip_config import ChipConfig, Geometry  # noqa: E402
from analog_models.readout import comparator  # noqa: E402

TARGET_RATE = 5e6
TARGET_RATIO = 100.0
TARGET_LATCH_S = 1e-3  # per window (issue 9)


def chip() -> AccumulatorArray:
    g = Geometry()
    rng = np.random.default_rng(0)
    cfg = ChipConfig(geometry=g, weight_sign=rng.integers(-1, 2, g.weight_shape),
                     weight_codes=rng.integers(0, 16, g.weight_shape),
                     transistor_codes=rng.integers(0, 16, g.weight_shape),
                     threshold_codes=rng.integers(0, 64, (g.channels,)), variation_seed=1)
    a = AccumulatorArray(cfg)
    a.increments  # noqa: B018  (solve the cell currents once, outside the timing)
    return a


def events(n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 34, n), rng.integers(0, 34, n), rng.integers(0, 2, n)


def rate_batch(a: AccumulatorArray, n_total: int, batch: int) -> float:
    x, y, p = events(n_total, 2)
    t = time.perf_counter()
    for k in range(0, n_total, batch):
        a.apply_events(x[k:k + batch], y[k:k + batch], p[k:k + batch])
    return n_total / (time.perf_counter() - t)


def latch_times(windows: int = 30, events_per_window: int = 300) -> dict[str, float]:
    """Median seconds per window of the old latch (solve every divider, compare) and of
    ``sample()`` after a window of events, and of ``sample()`` with nothing moved; whether
    the flags agree in every window."""
    a = chip()
    x, y, p = events(windows * events_per_window + 20_000, 3)
    a.apply_events(x[:20_000], y[:20_000], p[:20_000])  # walls spread over the track
    a.sample()
    old, new, moved, same = [], [], [], True
    for w in range(windows):
        sl = slice(20_000 + w * events_per_window, 20_000 + (w + 1) * events_per_window)
        before = a.acc_pos.ticks.copy()
        a.apply_events(x[sl], y[sl], p[sl])
        moved.append(float(np.mean(a.acc_pos.ticks != before)))
        t = time.perf_counter()
        flags = a.sample()
        new.append(time.perf_counter() - t)
        t = time.perf_counter()
        ref = comparator(a.v_pre(), a.v_th(), a.comp_offset)
        old.append(time.perf_counter() - t)
        same &= bool(np.array_equal(flags, ref))
    t = time.perf_counter()
    for _ in range(windows):
        a.sample()
    clean = (time.perf_counter() - t) / windows
    return {"old": float(np.median(old)), "new": float(np.median(new)),
            "new_max": float(np.max(new)), "clean": clean, "moved": float(np.mean(moved)),
            "same": same}


def main() -> int:
    a, b = chip(), chip()
    n_ref = 2000
    x, y, p = events(n_ref)
    t = time.perf_counter()
    b.apply_events_reference(x, y, p)
    ref_rate = n_ref / (time.perf_counter() - t)
    a.apply_events(x, y, p)
    same = np.array_equal(a.acc_pos.ticks, b.acc_pos.ticks) and \
        np.array_equal(a.acc_neg.ticks, b.acc_neg.ticks)
    print("accumulator array, 34x34 sensor, 2 polarities, 32 channels, 3x3 stride 2 (1 core)")
    print(f"  per-event reference       : {ref_rate:12,.0f} events/s   ({n_ref} events)")
    rates = {}
    for batch, total in ((100, 20_000), (1_000, 200_000), (10_000, 1_000_000),
                         (100_000, 2_000_000), (1_000_000, 4_000_000)):
        a.reset_all()
        rates[batch] = rate_batch(a, total, batch)
        print(f"  vectorized, batch {batch:>9,}: {rates[batch]:12,.0f} events/s   "
              f"ratio {rates[batch] / ref_rate:10,.0f}x")
    best = rates[100_000]
    print(f"  same final state (reference vs batch): {same}")
    ok = best >= TARGET_RATE and best / ref_rate >= TARGET_RATIO and same
    print(f"  target: >= {TARGET_RATE:,.0f} events/s and >= {TARGET_RATIO:.0f}x the reference "
          f"(batch 100,000): {'met' if ok else 'NOT met'}")
    lt = latch_times()
    print("comparator latch, 32x16x16 neurons, one window (median of 30 windows, 300 events "
          f"each, {100 * lt['moved']:.0f} % of the positive accumulators moved)")
    print(f"  old: v_pre() bisection + compare : {1e3 * lt['old']:8.3f} ms")
    print(f"  sample() after a window          : {1e3 * lt['new']:8.3f} ms   "
          f"ratio {lt['old'] / lt['new']:6.0f}x   (slowest window {1e3 * lt['new_max']:.3f} ms)")
    print(f"  sample() with nothing moved      : {1e3 * lt['clean']:8.3f} ms   "
          f"ratio {lt['old'] / lt['clean']:6.0f}x")
    print(f"  same flags in every window: {lt['same']}; target < {1e3 * TARGET_LATCH_S:.0f} ms "
          f"per window: {'met' if lt['new'] < TARGET_LATCH_S else 'NOT met'}")
    return 0 if same and lt["same"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
