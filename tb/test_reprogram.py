"""Reprogramming the fabricated chip for another application (the paper's Fig. 5 flow), closed
loop with the analog bridge.

The chip is fabricated once: its transistor codes (the ``cmos+x`` weight transistors) and
weight signs (routing) are fixed; the MDWMTJ weight codes and the threshold codes are
programmable. The test programs application A (the shipped checkpoint's exported chip),
streams a sample, then resets the accumulators (CTRL.GRST) and reprograms every weight
MDWMTJ and threshold divider for application B (same transistor codes and signs, other
MDWMTJ and threshold codes: :func:`reprogrammed`), streams the same sample again, and checks
that each run equals the golden chip mode of its own configuration (matched timing, spike
for spike) and that the outputs changed as the golden model predicts for B.

Testpoint (tb/testplan.md): cosim_reprogram. Needs the shipped checkpoint's chip (skipped, saying why,
without a checkpoint or at another geometry).
Run: ``make sim TEST=test_reprogram``.
"""

from __future__ import annotations

import copy

import cocotb
import numpy as np
import pyuvm

from analog_models.chip_config import ChipConfig
from tb.cosim import default_chip, shipped_chip_skip
from tb.cosim_flow import CosimTest, configure, program
from tb.program_chip import chip_commands

#: Why the test cannot run here (no checkpoint, another geometry), None when it can.
SKIP = shipped_chip_skip(cocotb.top)
if SKIP:  # pragma: no cover - depends on the installation and the geometry
    print(f"test_reprogram: skipped: {SKIP}")


def reprogrammed(cfg: ChipConfig, seed: int) -> ChipConfig:
    """Application B on the chip of ``cfg``: the same geometry, device preset, static
    variation, weight signs and transistor codes (fabrication), new MDWMTJ weight codes
    (seeded, uniform over the code range) and threshold codes (``cfg``'s shifted by a
    seeded offset of 4..12 codes, clipped: a different operating point)."""
    rng = np.random.default_rng(seed)
    b = copy.deepcopy(cfg)
    wmax, tmax = 2**cfg.weight_bits - 1, 2**cfg.threshold_bits - 1
    b.weight_codes = rng.integers(0, wmax + 1, size=np.shape(cfg.weight_codes))
    shift = int(rng.integers(4, 13)) * int(rng.choice([-1, 1]))
    b.threshold_codes = np.clip(np.asarray(cfg.threshold_codes) + shift, 0, tmax)
    b.meta = {**dict(cfg.meta or {}), "reprogrammed_from": "A", "seed": int(seed)}
    b.validate()
    return b


@pyuvm.test(skip=bool(SKIP))
class Reprogram(CosimTest):
    """Program A, run; global reset, reprogram B (weights and thresholds only), run; each run
    equals the golden chip mode of its configuration; A and B differ as predicted."""

    async def body(self) -> None:
        from events.default_dataset import DefaultDigits

        path, _ck, T = default_chip(self.run_cfg.test_dir)
        a = ChipConfig.load(path)
        if a.weight_config != "cmos+x":
            raise AssertionError(f"{path}: weight_config {a.weight_config!r}; the "
                                 "reprogramming flow needs cmos+x (fixed transistors, "
                                 "programmable MDWMTJs)")
        b = reprogrammed(a, self.seed)
        n_b = len(chip_commands(b))
        events = DefaultDigits(split="test", progress=False)[5][0]
        T = min(T, 4)
        self.start_bridge(a)
        await program(self.env, self.bridge, a)
        await configure(self.env, a.window_us)
        ra = await self.run_and_score(a, events, T)
        await program(self.env, self.bridge, b)  # after the GRST of the next sample
        rb = await self.run_and_score(b, events, T)
        for name, r in (("A", ra), ("B", rb)):
            if not r["spikes_identical"]:
                raise AssertionError(f"application {name}: {r['spike_mismatches']} "
                                     "neuron-windows differ from its golden chip mode")
        sa = np.asarray(ra["spikes_per_window"])
        sb = np.asarray(rb["spikes_per_window"])
        if np.array_equal(sa, sb) and ra["aer_spikes"] == rb["aer_spikes"]:
            raise AssertionError("reprogramming B did not change the output")
        changed = len(set(map(tuple, ra["aer_spikes"])) ^ set(map(tuple, rb["aer_spikes"])))
        self.logger.info(f"reprogrammed {n_b} devices for B (seed {self.seed}): spikes per "
                         f"window A {sa.tolist()} -> B {sb.tolist()}; {changed} neuron-windows "
                         "changed, both equal to their golden chip modes")
        self.bridge.check()
