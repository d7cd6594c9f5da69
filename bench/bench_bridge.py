"""Cost of the analog bridge (tb.analog_bridge), measured side by side in one run.

* One N-MNIST-sized sample (the default dataset's first test sample: 34 x 34 sensor ->
  32 x 16 x 16 neurons, the checkpoint's T windows of its window_us, ~300 ms) streamed
  through the same simulation twice under Icarus, programming excluded from the timing:
  with the bridge (the analog array closed loop, tb.cosim) and with a random-flag agent
  that writes flags of the same per-channel spike counts (the same RTL and AER work,
  no analog model). Prints the wall seconds of both, the bridge's added wall time
  (goal <= 25 %), its Python wake-ups per window and per input event (goal: none per event,
  at most 2 + 2 x channels read out per window), the real-time factor, and the golden chip
  mode's time for the same sample.
* Peak memory of the bridge's model for a DVS128-sized chip (128 x 128 sensor -> 32 x 64 x 64
  neurons: kernel 3, stride 2, padding 1, the geometry of the RTL's DVS128 build) in a fresh
  process: the chip built unprogrammed, programmed pulse by pulse as the RTL does, checked
  against the chip built from the file, then 10 windows of events applied, latched and
  reset (goal < 1 GiB).

No assertion (machines are noisy); each of the two simulations runs twice, interleaved, and
the faster run of each counts. Knob: ``BENCH_BRIDGE_SAMPLE`` (test sample index).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tb.cosim import default_chip, run_samples  # noqa: E402
from tb.run import REPO  # noqa: E402

MEMORY_CHILD = r"""
import resource, sys, time, json
import numpy as np
sys.path.insert(0, sys.argv[1])
from analog_models.chip_config import ChipConfig, Geometry
from events import EVENT_DTYPE
from tb.bridge_core import BridgeCore, PS_PER_US, programming_mismatch
from tb.config import Geometry as TbGeometry
from tb.program_chip import chip_commands
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
geo = Geometry(sensor_height=128, sensor_width=128, padding=1)  # 64 x 64 neurons
rng = np.random.default_rng(1)
shape = (32, 2, 3, 3)
cfg = ChipConfig(geometry=geo, weight_config="cmos+x", weight_sign=rng.choice([-1, 1], shape),
                 weight_codes=rng.integers(0, 16, shape),
                 transistor_codes=rng.integers(0, 16, shape),
                 threshold_codes=rng.integers(0, 64, 32), window_us=10_000, variation_seed=3)
t0 = time.perf_counter()
core = BridgeCore(cfg)  # unprogrammed: programmed pulse by pulse, as the RTL does
t = 1_000
for target, index, code in chip_commands(cfg, TbGeometry(out_h=64, out_w=64, stride=2)):
    core.program(t, 320_000, target, index, True)
    for _ in range(code):
        t += 60_000
        core.program(t, 40_000, target, index, False)
    t += 400_000
prog_s = time.perf_counter() - t0
assert programming_mismatch(core) is None  # builds the chip from the file beside it
n, T, W = 200_000, 10, 10_000
ev = np.zeros(n, dtype=EVENT_DTYPE)
ev["x"], ev["y"], ev["p"] = rng.integers(0, 128, n), rng.integers(0, 128, n), rng.integers(0, 2, n)
ev["t"] = np.sort(rng.integers(0, T * W, n))
core.load_events(ev, t)
spikes = 0
for k in range(T):
    end = t + (k + 1) * W * PS_PER_US
    flags = core.latch(end + 300_000)
    spikes += int(flags.sum())
    for c in np.flatnonzero(flags.any(1)):
        core.reset(end + 400_000 + int(c) * 10_000, 160_000, int(c), flags[c])
print(json.dumps({"peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "start_kib": rss0, "seconds": time.perf_counter() - t0, "events": n,
                  "program_s": prog_s,
                  "spikes": spikes, "neurons": int(np.prod(core.array.neuron_shape))}))
"""


def memory() -> dict:
    out = subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(REPO)], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    from analog_models.chip_config import ChipConfig
    from events.default_dataset import DefaultDigits
    from golden.chip import ChipFirstLayer

    m = memory()  # first: a child's ru_maxrss starts at its parent's (fork)
    with tempfile.TemporaryDirectory() as tmp:
        chip = default_chip(tmp)
        if chip is None:
            print("bench_bridge: no trained checkpoint (tb.cosim.find_checkpoint): skipped")
        else:
            path, ck, T = chip
            i = int(os.environ.get("BENCH_BRIDGE_SAMPLE", "0"))
            ev, label = DefaultDigits(split="test", progress=False)[i]
            cfg = ChipConfig.load(path)
            t0 = time.perf_counter()
            ChipFirstLayer(cfg, T).run(ev)
            golden_s = time.perf_counter() - t0
            res: dict[str, dict] = {}
            for _ in range(2):  # interleaved, the faster of two each: a noisy machine
                for flags in ("bridge", "random"):
                    r = run_samples(path, [(f"s{i}", ev)], seed=1, T=T, flags=flags,
                                    build_dir=Path(tmp) / flags, timeout_s=1800)["samples"][0]
                    if flags not in res or r["stream_wall_s"] < res[flags]["stream_wall_s"]:
                        res[flags] = r
            b, r = res["bridge"], res["random"]
            sensor = b["sim_time_s"]
            print(f"N-MNIST-sized sample (default dataset test[{i}], {ev.size} events, {T} "
                  f"windows of {cfg.window_us} us = {sensor * 1000:.0f} ms, "
                  f"{sum(b['spikes_per_window'])} spikes), Icarus, programming excluded:")
            print(f"  random-flag agent (same spike counts) {r['stream_wall_s']:8.2f} s wall, "
                  f"real-time factor {r['realtime_factor']:.2f}")
            print(f"  analog bridge (closed loop)          {b['stream_wall_s']:8.2f} s wall, "
                  f"real-time factor {b['realtime_factor']:.2f}")
            print(f"  bridge's added wall time: "
                  f"{100 * (b['stream_wall_s'] / r['stream_wall_s'] - 1):+.1f} % (goal <= 25 %)")
            print(f"  bridge wake-ups: {b['wakeups_per_window']:.2f} per window, "
                  f"{b['wakeups_per_event']:.5f} per input event (goal: 0 per event, <= "
                  f"2 + 2 x channels per window)")
            print(f"  spikes identical to the golden chip mode: {b['spikes_identical']}; "
                  f"golden chip mode alone: {golden_s:.2f} s for the same sample")
    print(f"DVS128-sized chip (128 x 128 -> {m['neurons']:,} neurons): bridge model peak "
          f"memory {m['peak_kib'] / 1024:.0f} MiB (after imports {m['start_kib'] / 1024:.0f} "
          f"MiB; goal < 1024 MiB): programmed pulse by pulse ({m['program_s']:.0f} s) and "
          f"checked against the chip built from the file, {m['events']:,} events in 10 "
          f"windows, {m['spikes']:,} spikes, {m['seconds']:.0f} s in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
