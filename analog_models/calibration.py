"""Per-neuron comparator offset trim, calibrated at rest (beyond the paper).

Why: with the paper's variation (20 % MDWMTJ resistance on the two devices of every
divider, plus the comparator's own offset), a neuron's decision margin at rest (both
walls at q = 0) differs from the design's by 4 mV (standard deviation; 15 mV at most) of
the 0.12 V read supply, against window signals of a few mV, so the chip fires where the
model does not: a network trained without noise scored 10 % on a chip as is and 94 % on
the same chip trimmed (docs/golden.md, "Offset trim").

What: every comparator has a signed trim DAC (``circuit.comparator_trim_bits`` codes of
``circuit.comparator_trim_lsb`` volts, subtracted from its input). The trim code of a
neuron is the nearest to ``(V_pre - V_th - offset)_chip - (V_pre - V_th)_design`` at rest,
the design margin being that of nominal devices at the programmed threshold code. On
silicon a production test finds the same code (within one LSB) by a binary search over
the code while it watches the neuron fire in empty windows, one window per bit, and keeps
it with the chip; the bench computes it from the instance's model. The trim lives in the
configuration file (``ChipConfig.comparator_trim``); programming it through the RTL is not
modelled (the analog bridge takes it from the file, as a chip loads fuses at power-up).
The trim is calibrated for the programmed threshold codes (a divider's offset depends on
its code): a chip whose thresholds are reprogrammed is calibrated again.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from analog_models.accumulator import AccumulatorArray
from analog_models.chip_config import ChipConfig
from analog_models.presets import PRESETS


def rest_margins(config: ChipConfig) -> np.ndarray:
    """``V_pre - V_th - offset`` (V) of every neuron (C, OH, OW) of the programmed instance
    at rest (both walls at q = 0), without any trim."""
    a = AccumulatorArray(replace(config, comparator_trim=None))
    a.reset_all()
    return a.v_pre() - a.v_th() - a.comp_offset


def trim_codes(config: ChipConfig) -> np.ndarray:
    """The offset-trim codes (C, OH, OW) int64 that bring every neuron's margin at rest to
    the design's (module docstring); clipped to the DAC's range."""
    c = PRESETS[config.device_preset].circuit
    design = rest_margins(replace(config, variation="none"))
    excess = rest_margins(config) - design
    half = 2 ** (c.comparator_trim_bits - 1)
    return np.clip(np.rint(excess / c.comparator_trim_lsb), -half, half - 1).astype(np.int64)


def calibrated(config: ChipConfig) -> ChipConfig:
    """A copy of ``config`` with its instance's offset-trim codes."""
    return replace(config, comparator_trim=trim_codes(config))
