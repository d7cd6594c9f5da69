"""``P2MConv``: the hardware-aware P2M first layer in its ``ideal`` and ``fitted`` modes.

Input: ON/OFF event counts per integration window, ``(T, B, P, H, W)`` float (P = 2
polarities: channel 0 OFF, 1 ON, as :func:`events.framing.frame_events` writes them).
Output: first-layer spikes ``(T, B, C, OH, OW)`` (0/1 float), OH = (H - K) // S + 1.

The trainable parameters are shared by every mode:

* ``weight`` (C, P, K, K): the CODE-LINEAR signed weight in [-1, 1]: ``|w| = m / 15`` is
  weight level ``m`` of a 4-bit cell (``weight_config`` decides what realizes it: the
  transistor width of a CMOS or CMOS+X cell, the set-pulse code ``15 - m`` of an MDWMTJ
  cell); the sign routes the cell to the positive or the negative accumulator; a weight
  that rounds to level 0 has no cell (``weight_sign`` 0). :meth:`P2MConv.constrain_`
  keeps it inside the programmable range after every optimizer step.
* ``threshold`` (C,): the per-channel threshold in normalized V_pre units (the paper's
  kernel-dependent thresholds), kept inside the range of the threshold divider's levels;
  quantized to the nearest 6-bit code on export.

Modes:

* ``ideal`` (the paper's baseline, Table 1): digital convolution of the counts with the
  weights, batch norm and a LIF neuron (SpikingJelly, multi-step): what a conventional
  backend computes for the first layer. Its BN and LIF are used in this mode only.
* ``fitted`` (the paper's framework, trainable): per window ``t`` and neuron, the positive
  accumulator moves by ``sum g(|w|) n / n_fs`` over the window's events ``n`` on cells
  with a positive weight (negative accumulator likewise), ``g`` the characterized
  per-event increment of the weight configuration (f1, :mod:`golden.curves`); the DW
  positions are non-volatile (they carry over between windows) and saturate at the track
  end; at the window end ``V = f2(d_pos - d_neg)`` (the worst-case lower bound) is compared
  with the channel's threshold (``f2="lower"``, the paper's choice; the default
  ``f2="exact"`` uses the exact nominal divider ``F2(d_pos, d_neg)`` instead: the lower
  bound sits 0.09 below it on average and up to 0.26, so a chip fires 13 % more
  neuron-windows than a lower-bound model predicts, and a network trained on the lower
  bound lost its accuracy on the chip: 17 % instead of 88 %, measured); a spike resets
  both accumulators of that neuron to 0
  (hard reset), a surrogate gradient (arctan) trains through the comparator.
* ``chip``: one device-level chip instance; it runs on events, not counts, and lives in
  :class:`golden.chip.ChipFirstLayer` (no gradient).

Noise (``noise`` = nu, the paper's Table 1 "Noise (%)"): Gaussian, scaled so that
**nu = 10 % injects exactly the characterized spread**: the window increment of each
accumulator gets ``(nu / 0.1) f1_sigma(inc) z1`` and V_norm gets ``(nu / 0.1) f2_sigma(d)
z2``, ``z ~ N(0, 1)`` drawn once per sample, neuron and accumulator (device variation is
static: a neuron keeps its draw over the T windows; a new forward pass draws anew); the
neuron's threshold gets ``(nu / 0.1) threshold_sigma(theta) z3`` (the threshold divider is
the same two-MDWMTJ divider, so the same characterized spread, plus the comparator
offset; the paper models no threshold variation, the chip has it: 22 % of the neurons of
a chip programmed at V_th = +0.11 fire with no input) (f1_sigma: Monte Carlo std of the DW
position with 3-sigma transistor mismatch, 20 % R variation and the 10 % write-pulse
jitter; f2_sigma: std of V_norm with 20 % R variation of both accumulators). 0 % is the
nominal curve, 20 % and 40 % twice and four times the characterized spread. The paper's
headline operating point (abstract: 79.17 % / 95.99 %) is its 10 % row: the hardware as
characterized.

**Reprogramming** (``reprogram=True``, CMOS+X only; the paper's Sec. 3.3 and Table 2):
the chip is fabricated, so the weight signs and the transistor width codes are fixed
(buffers ``fixed_sign``, ``fixed_level``) and only the weight MDWMTJs (``mtj_code``,
continuous in [0, 15], set pulses) and the thresholds are trainable: each cell's per-event
increment is the nominal CMOS+X table ``normalized_weight(mtj_code, transistor_code)``
(linear between codes), which the MDWMTJ trims down by 30-40 % at most (its programmable
range). :meth:`P2MConv.freeze_transistors` turns a trained layer into this form.

``quantize=True`` rounds weights to their 4-bit levels and thresholds to their codes in
the forward pass (straight-through gradients): exactly what :mod:`golden.export` programs,
so ``fitted`` with ``quantize`` is what the chip gets.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from analog_models.fitted import F1F2
from golden.curves import TorchCurves
from golden.membrane import membrane
from golden.snn import lif_node

MODES = ("ideal", "fitted", "chip")
#: V_pre models of the fitted mode: the exact nominal divider (default) or the paper's
#: worst-case lower bound f2(d_pos - d_neg).
F2_MODELS = ("exact", "lower")
#: Weight levels of the characterized 4-bit cells (the f1/f2 fits sample w = m / 15).
WEIGHT_LEVELS = 15
#: The noise level that injects exactly the characterized f1/f2 spread (see module doc).
NOISE_REFERENCE = 0.10
#: Width of the comparator's surrogate gradient, normalized V units (about the spread of a
#: neuron's static offsets, so that neurons far from their threshold still learn).
SURROGATE_WIDTH = 0.15


def _cmosx_table(device_preset: str) -> torch.Tensor:
    """Nominal per-event increment over the full-scale one of a CMOS+X cell, (16 transistor
    codes, 16 MDWMTJ codes) (:meth:`analog_models.weight_cells.WeightCellModel.normalized_weight`)."""
    import numpy as np

    from analog_models.presets import get_preset
    from analog_models.weight_cells import WeightCellModel

    model = WeightCellModel(get_preset(device_preset), "cmos+x")
    codes = np.arange(WEIGHT_LEVELS + 1)
    table = model.normalized_weight(codes[None, :], codes[:, None])
    return torch.as_tensor(table, dtype=torch.float32)


def _ste(x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``target`` in the forward pass, the identity's gradient in the backward pass."""
    return x + (target - x).detach()


class P2MConv(nn.Module):
    """The P2M first layer (see the module docstring). Shapes: in (T, B, P, H, W) counts,
    out (T, B, C, OH, OW) spikes."""

    def __init__(self, in_channels: int = 2, channels: int = 32, kernel: int = 3,
                 stride: int = 2, weight_config: str = "cmos+x", mode: str = "fitted",
                 noise: float = 0.0, quantize: bool = False, f1f2: F1F2 | None = None,
                 threshold_init: float = 0.1, tau: float = 2.0, reprogram: bool = False,
                 device_preset: str = "paper2024", f2: str = "exact",
                 threshold_min: float | None = None, padding: int = 0,
                 offset_trim: bool = False) -> None:
        super().__init__()
        self.in_channels, self.channels = int(in_channels), int(channels)
        self.kernel, self.stride = int(kernel), int(stride)
        if not 0 <= int(padding) < self.kernel:
            raise ValueError(f"padding: must lie in [0, {self.kernel - 1}], got {padding!r}")
        self.padding = int(padding)  # rows/columns of no pixels around the sensor
        # the chip's comparators carry a calibrated offset trim (analog_models.calibration):
        # it cancels each neuron's threshold-divider, comparator and V_pre offsets at rest,
        # so the noise has no threshold term and V's spread is what is left beyond rest
        # (TorchCurves.f2_tables_trimmed)
        self.offset_trim = bool(offset_trim)
        self.curves = TorchCurves(weight_config, f1f2)
        self.weight_config = weight_config
        self.weight = nn.Parameter(torch.empty(channels, in_channels, kernel, kernel))
        nn.init.uniform_(self.weight, -1.0, 1.0)
        levels = self.curves.threshold_levels
        self.th_min, self.th_max = float(levels.min()), float(levels.max())
        if threshold_min is not None:  # a floor above the neurons' static offsets
            if not self.th_min <= threshold_min < self.th_max:
                raise ValueError(f"threshold_min: must lie in [{self.th_min}, {self.th_max}), "
                                 f"got {threshold_min!r}")
            self.th_min = float(threshold_min)
        self.threshold = nn.Parameter(torch.full((channels,), float(threshold_init)))
        # the ideal (digital baseline) mode's own batch norm and LIF neuron
        self.bn = nn.BatchNorm2d(channels)
        self.lif = lif_node(tau)
        self.mode = mode
        self.noise = noise
        self.quantize = bool(quantize)
        if f2 not in F2_MODELS:
            raise ValueError(f"f2: one of {F2_MODELS}, got {f2!r}")
        self.f2_model = f2
        self.reprogram = bool(reprogram)
        if self.reprogram:
            if weight_config != "cmos+x":
                raise ValueError("reprogram: only CMOS+X weights have fixed transistors and "
                                 f"programmable MDWMTJs, not {weight_config!r}")
            shape = (channels, in_channels, kernel, kernel)
            self.register_buffer("fixed_sign", torch.zeros(shape))
            self.register_buffer("fixed_level", torch.zeros(shape, dtype=torch.long))
            self.register_buffer("trim_table", _cmosx_table(device_preset))  # (16 t, 16 m)
            self.mtj_code = nn.Parameter(torch.zeros(shape))

    # ------------------------------------------------------------------ settings
    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in MODES:
            raise ValueError(f"mode: must be one of {MODES}, got {value!r}")
        self._mode = value

    @property
    def noise(self) -> float:
        return self._noise

    @noise.setter
    def noise(self, value: float) -> None:
        v = float(value)
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"noise: must lie in [0, 1] (a fraction, 0.1 = 10 %), got {value!r}")
        self._noise = v

    def output_size(self, h: int, w: int) -> tuple[int, int]:
        """(OH, OW) for an H x W sensor (with the layer's padding)."""
        k, s, p = self.kernel, self.stride, self.padding
        return (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1

    @torch.no_grad()
    def constrain_(self) -> None:
        """Keep the parameters inside what the hardware can be programmed to: weights in
        [-1, 1] (code-linear), thresholds inside the divider's level range, MDWMTJ codes in
        [0, 15]."""
        self.weight.clamp_(-1.0, 1.0)
        self.threshold.clamp_(self.th_min, self.th_max)
        if self.reprogram:
            self.mtj_code.clamp_(0.0, float(WEIGHT_LEVELS))

    @torch.no_grad()
    def freeze_transistors(self, mtj_code: int = 0) -> None:
        """Fix the signs and transistor codes of the present weights (the fabricated chip)
        and start the MDWMTJs at ``mtj_code``; afterwards only the MDWMTJ codes and the
        thresholds train (``reprogram``)."""
        if not self.reprogram:
            raise ValueError("freeze_transistors: the layer was not built with reprogram=True")
        levels = self.weight_levels()
        self.fixed_level.copy_(levels)
        self.fixed_sign.copy_(torch.sign(self.weight) * (levels > 0))
        self.mtj_code.fill_(float(mtj_code))

    def mtj_codes(self) -> torch.Tensor:
        """The MDWMTJ set-pulse code of every cell (reprogram mode), int64 (C, P, K, K)."""
        return torch.round(self.mtj_code.detach().clamp(0, WEIGHT_LEVELS)).long()

    # ------------------------------------------------------------------ the weights
    def weight_levels(self) -> torch.Tensor:
        """Integer level ``m = round(15 |w|)`` of every weight (C, P, K, K), int64."""
        return torch.round(self.weight.detach().abs().clamp(max=1.0) * WEIGHT_LEVELS).long()

    def _effective_weight(self) -> torch.Tensor:
        """The signed code-linear weight the forward pass uses (quantized with STE when
        ``quantize``), with cells that round to level 0 removed (straight-through)."""
        w = self.weight.clamp(-1.0, 1.0)
        present = (self.weight_levels() > 0).to(w.dtype)
        if self.quantize:
            w = _ste(w, torch.sign(w) * self.weight_levels().to(w.dtype) / WEIGHT_LEVELS)
        return w * _ste(torch.ones_like(w), present)

    def effective_threshold(self) -> torch.Tensor:
        """The per-channel threshold the comparator uses (C,), quantized with ``quantize``."""
        th = self.threshold.clamp(self.th_min, self.th_max)
        if self.quantize:
            th = _ste(th, self.curves.threshold_levels[self.curves.threshold_code(th)])
        return th

    def _cell_gains(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-event increment over the full-scale one of every cell, split by the
        accumulator it drives: (g_pos, g_neg), each (C, P, K, K)."""
        if self.reprogram:
            m = self.mtj_code.clamp(0.0, float(WEIGHT_LEVELS))
            if self.quantize:
                m = _ste(m, torch.round(m))
            lo = m.detach().floor().clamp(max=WEIGHT_LEVELS - 1).long()
            row = self.trim_table[self.fixed_level]  # (C, P, K, K, 16): that transistor's row
            g0 = row.gather(-1, lo[..., None])[..., 0]
            g1 = row.gather(-1, (lo + 1)[..., None])[..., 0]
            g = g0 + (m - lo.to(m.dtype)) * (g1 - g0)
            sign = self.fixed_sign
            return g * (sign > 0).to(g.dtype), g * (sign < 0).to(g.dtype)
        w = self._effective_weight()
        g = self.curves.g(w.abs())
        present = (w != 0).to(w.dtype)  # g(0) > 0 for CMOS/MDWMTJ cells: only real cells
        return g * (w > 0).to(w.dtype) * present, g * (w < 0).to(w.dtype) * present

    def _increments_both(self, counts: torch.Tensor) -> torch.Tensor:
        """Nominal DW increments of counts (N, P, H, W) -> (N, 2C, OH, OW): the positive
        accumulators' C channels, then the negative ones', normalized to the track."""
        g_pos, g_neg = self._cell_gains()
        both = torch.cat([g_pos, g_neg], 0) / self.curves.n_fs
        return F.conv2d(counts, both, stride=self.stride, padding=self.padding)

    def increments(self, counts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Nominal DW increments of one window's counts (N, P, H, W) -> positive and
        negative accumulators (N, C, OH, OW), normalized to the track."""
        inc = self._increments_both(counts)
        return inc[:, :self.channels], inc[:, self.channels:]

    # ------------------------------------------------------------------ forward
    def forward(self, counts: torch.Tensor) -> torch.Tensor:
        if counts.dim() != 5 or counts.shape[2] != self.in_channels:
            raise ValueError(f"counts: expected (T, B, {self.in_channels}, H, W), "
                             f"got {tuple(counts.shape)}")
        if self.mode == "ideal":
            return self._forward_ideal(counts)
        if self.mode == "chip":
            raise RuntimeError("mode 'chip' runs on events, not counts: use "
                               "golden.chip.ChipFirstLayer (P2MNet.forward(..., "
                               "first_spikes=...) takes its spikes)")
        return self._forward_fitted(counts)

    def _forward_ideal(self, counts: torch.Tensor) -> torch.Tensor:
        T, B = counts.shape[:2]
        x = F.conv2d(counts.flatten(0, 1), self.weight.clamp(-1.0, 1.0), stride=self.stride,
                     padding=self.padding)
        x = self.bn(x)
        return self.lif(x.view(T, B, *x.shape[1:]))

    def _forward_fitted(self, counts: torch.Tensor) -> torch.Tensor:
        T, B = counts.shape[:2]
        both = self._increments_both(counts.flatten(0, 1))  # (T B, 2C, OH, OW)
        shape = (T, B, self.channels) + both.shape[2:]
        # (T, 2, B, C, OH, OW) as a view of the convolution's output: no copy forward or
        # backward (slicing the halves and stacking them cost 40 ms of a 200 ms step,
        # measured); the membrane keeps this memory layout for its state and gradients
        inc = both.view(T, B, 2, *shape[2:]).transpose(1, 2)
        scale = self.noise / NOISE_REFERENCE
        c = self.curves
        k_v = kz = None
        if scale > 0:
            # device variation is static: one draw per sample, neuron and accumulator,
            # scaled by the characterized spread at each window's increment
            kz = scale * torch.randn(inc.shape[1:], dtype=inc.dtype, device=inc.device)
            kz = kz.transpose(0, 1).contiguous().transpose(0, 1)  # inc's layout, same values
            if c.sigma_fit.numel() != 2:  # not the degree-2 fit: noise outside the membrane
                inc, kz = c.add_f1_noise(inc, kz), None
            k_v = scale * torch.randn(shape[1:], dtype=inc.dtype, device=inc.device)
        th = self.effective_threshold().view(-1, 1, 1)
        if scale > 0 and not self.offset_trim:  # each neuron's own threshold: divider
            # spread and comparator offset
            th = th + scale * c.threshold_sigma(th) * torch.randn(
                shape[1:], dtype=inc.dtype, device=inc.device)
        tables = c.f2_tables_trimmed() if self.offset_trim else c.f2_tables
        return membrane(inc, th, tables, c.d0, c.dd, SURROGATE_WIDTH, k_v, kz,
                        tuple(c.sigma_fit.tolist()),
                        c.f2_exact if self.f2_model == "exact" else None)
