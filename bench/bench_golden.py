"""Speed of the golden model, measured side by side in one run (machines are noisy: the
ratios are what counts).

* one training step (forward, backward, optimizer) of the network with the P2M first layer
  in ``fitted`` mode (10 % noise, the custom membrane backward) against the same network
  with the first layer ``ideal`` (digital convolution + BN + LIF); goal: at most 1.5x;
  and the first layer alone (forward + backward) in both modes;
* training and inference samples/s on the CPU (batch 32, N-MNIST-sized input: T = 10
  windows, 2 x 34 x 34, the default architecture);
* ``chip`` mode samples/s (the first layer on one device-level chip instance) on real-sized
  samples; goal: a 100-sample evaluation in at most a minute.

Interleaved repetitions, best of each; torch on one thread (``--threads`` to change).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from golden import snn
from golden.cpu import keep_heap
from golden.network import NetConfig, P2MNet


def _step_timer(net: P2MNet, x: torch.Tensor, y: torch.Tensor):
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)

    def step():
        out = net(x)
        loss = torch.nn.functional.cross_entropy(out, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        net.constrain_()
    return step


def _layer_timer(net: P2MNet, x: torch.Tensor):
    def step():
        snn.reset_states(net.p2m)
        out = net.p2m(x)
        out.sum().backward()
    return step


def _best(fns: dict, reps: int) -> dict[str, float]:
    best = {k: float("inf") for k in fns}
    for _ in range(reps):
        for k, fn in fns.items():  # interleaved: both see the same machine load
            t0 = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - t0)
    return best


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--chip-samples", type=int, default=10)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    keep_heap()  # as p2m train and p2m eval do (golden/cpu.py)
    torch.manual_seed(0)
    B = args.batch
    x = torch.poisson(torch.full((10, B, 2, 34, 34), 0.15))  # ~3,500 events per sample
    y = torch.randint(0, 10, (B,))
    nets = {}
    for mode in ("ideal", "fitted"):
        net = P2MNet(NetConfig())
        net.set_mode(mode, noise=0.1)
        nets[mode] = net
    steps = _best({m: _step_timer(n, x, y) for m, n in nets.items()}, args.reps)
    layer = _best({m: _layer_timer(n, x) for m, n in nets.items()}, args.reps)
    ratio = steps["fitted"] / steps["ideal"]
    print(f"== golden: one training step, batch {B}, T = 10, 2 x 34 x 34, default network, "
          f"{args.threads} thread(s)")
    print(f"  network step   ideal {1e3 * steps['ideal']:7.1f} ms   fitted "
          f"{1e3 * steps['fitted']:7.1f} ms   ratio {ratio:.2f}x (goal <= 1.5x): "
          f"{'met' if ratio <= 1.5 else 'NOT met'}")
    print(f"  first layer    ideal {1e3 * layer['ideal']:7.1f} ms   fitted "
          f"{1e3 * layer['fitted']:7.1f} ms   ratio "
          f"{layer['fitted'] / layer['ideal']:.2f}x (forward + backward of the layer alone)")
    print(f"  training       {B / steps['fitted']:.0f} samples/s (fitted), "
          f"{B / steps['ideal']:.0f} samples/s (ideal)")
    net = nets["fitted"]
    net.eval()
    with torch.no_grad():
        inf = _best({"fitted": lambda: net(x)}, args.reps)["fitted"]
    print(f"  inference      {B / inf:.0f} samples/s (fitted, no gradient)")
    # chip mode: the first layer on one device-level chip instance
    from events.default_dataset import default_samples
    from golden.chip import ChipFirstLayer
    from golden.export import export_chip_config

    evs, _ = default_samples(args.chip_samples, seed=0)
    chip = ChipFirstLayer(export_chip_config(net, 32_000), 10)
    chip.run(evs[0])  # the cell currents are solved once per chip, outside the timing
    t0 = time.perf_counter()
    spikes = chip.run_many(evs)
    dt = (time.perf_counter() - t0) / len(evs)
    with torch.no_grad():
        t1 = time.perf_counter()
        fs = torch.from_numpy(spikes.astype(np.float32)).transpose(0, 1)
        net(torch.zeros(10, len(evs), 2, 34, 34), first_spikes=fs)
        dt += (time.perf_counter() - t1) / len(evs)
    n_ev = np.mean([e.size for e in evs])
    print(f"  chip mode      {1 / dt:.1f} samples/s ({n_ev:.0f} events, 10 windows per sample): "
          f"a 100-sample evaluation in {100 * dt:.0f} s (goal <= 60 s): "
          f"{'met' if 100 * dt <= 60 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
