"""The fitted behavioural curves f1 and f2 in torch (ported once from ``analog_models.fitted``).

:class:`TorchCurves` holds, as buffers, everything the ``fitted`` first layer needs from
one characterization (:func:`analog_models.fitted.load_f1f2`) for one weight
configuration:

* ``g(w)``: the per-event DW increment of a code-linear weight magnitude ``w`` in [0, 1]
  over the full-scale one (cubic fit ``g_fit``, clipped at 0); one event moves the
  normalized DW position by ``g(w) / n_fs``;
* ``f1_sigma(x)``: the Monte Carlo standard deviation of the normalized DW position after
  an accumulated input ``x`` (quadratic through the origin, >= 0);
* ``f2_exact`` (41 x 41): the exact nominal V_norm of the accumulator divider over
  (d_pos, d_neg), what a nominal chip computes (the paper's f2 is a function of the
  difference only; its lower bound sits 0.09 below this on average, up to 0.26);
* ``f2(d)``: the paper's worst-case LOWER BOUND of the normalized pre-activation voltage
  for ``d = d_pos - d_neg`` in [-1, 1] (piecewise linear through the tabulated nominal
  lower bound, exactly as the numpy version interpolates it);
* ``f2_sigma(d)``: the standard deviation of the normalized V_pre over combinations and
  Monte Carlo instances (20 % R variation), piecewise linear;
* ``threshold_levels``: the normalized V_th of every threshold code (code 0 the highest);
  ``threshold_sigma(v)``: the spread of a programmed threshold (the threshold divider is
  the same series divider of two MDWMTJs, so f2_sigma at that level) with the
  comparator's offset, both static per neuron.

Everything is differentiable where the numpy original is (``g``, ``f2``), and equal to
the numpy version within floating-point tolerance (``tests/test_golden_curves.py``).
Units: normalized (DW position / track length; V_norm = (V_pre - V_mid)/(V_max - V_mid)).
"""

from __future__ import annotations

import torch
from torch import nn

from analog_models.chip_config import WEIGHT_CONFIGS
from analog_models.fitted import F1F2, load_f1f2
from analog_models.presets import get_preset

#: Points per axis of the exact 2-D V_pre table (step 1/40 of the track).
EXACT_GRID = 41


def exact_f2_grid(preset, v_mid: float, v_half: float, n: int = EXACT_GRID):
    """Nominal normalized V_pre ``(V - V_mid) / (V_max - V_mid)`` of the accumulator
    divider (:func:`analog_models.readout.divider_voltage`) at ``d_pos`` (rows) x ``d_neg``
    (columns) on ``linspace(0, 1, n)``, numpy float64 (n, n)."""
    import numpy as np

    from analog_models.readout import divider_voltage

    d = np.linspace(0.0, 1.0, n)
    dp, dn = np.meshgrid(d, d, indexing="ij")
    acc = preset.accumulator
    v = divider_voltage(acc, dn, acc, dp, preset.circuit.v_read)  # negative on top
    return (v - v_mid) / v_half


def _poly_origin(coeffs: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``sum_k c_k x^k, k = 1..len(c)`` (Horner), any shape of ``x``."""
    out = torch.zeros_like(x)
    for c in coeffs.flip(0):
        out = (out + c) * x
    return out


def interp_uniform(x: torch.Tensor, x0: float, dx: float, table: torch.Tensor) -> torch.Tensor:
    """Piecewise-linear interpolation through ``table`` sampled at ``x0 + k dx``
    (``np.interp`` semantics: clamped at both ends), differentiable in ``x``."""
    n = table.numel()
    pos = ((x - x0) / dx).clamp(0.0, n - 1.0)
    i0 = pos.detach().floor().clamp(max=n - 2).long()
    frac = pos - i0.to(pos.dtype)
    return table[i0] + frac * (table[i0 + 1] - table[i0])


class TorchCurves(nn.Module):
    """f1/f2 of one characterization and weight configuration, as torch buffers."""

    def __init__(self, weight_config: str = "cmos+x", f1f2: F1F2 | None = None,
                 dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        if weight_config not in WEIGHT_CONFIGS:
            raise ValueError(f"weight_config: must be one of {WEIGHT_CONFIGS}, "
                             f"got {weight_config!r}")
        f = f1f2 if f1f2 is not None else load_f1f2()
        self.weight_config = weight_config
        doc = f.doc
        cfg = doc["f1"][weight_config]
        t = lambda v: torch.as_tensor(v, dtype=dtype)  # noqa: E731
        self.register_buffer("g_fit", t(cfg["g_fit"]))
        self.register_buffer("sigma_fit", t(cfg["sigma"]))
        self.register_buffer("n_fs_t", torch.tensor(float(cfg["n_fs"]), dtype=torch.float64))
        d = doc["f2"]["d_diff"]
        d0, dd = float(d[0]), float(d[1] - d[0])
        grid = torch.linspace(d0, d0 + dd * (len(d) - 1), len(d), dtype=torch.float64)
        if not torch.allclose(grid, torch.as_tensor(d, dtype=torch.float64), atol=1e-12):
            raise ValueError("f1f2: f2.d_diff must be a uniform grid")
        self.register_buffer("f2_grid", torch.tensor([d0, dd], dtype=torch.float64))
        # f2 (nominal lower bound) and f2_sigma (std_mc) on that grid, (2, G)
        self.register_buffer("f2_tables", t([doc["f2"]["nominal_lower"], doc["f2"]["std_mc"]]))
        self.register_buffer("threshold_levels", t(doc["threshold_levels"]["v_norm"]))
        # the comparator's input offset (sigma, V) in V_norm units: the threshold divider
        # is the same series divider of two MDWMTJs as V_pre, so V_th gets f2_sigma too
        preset = get_preset(doc.get("preset", "paper2024"))
        v_half = float(doc["f2"]["v_max"]) - float(doc["f2"]["v_mid"])
        # the exact nominal pre-activation V_norm(d_pos, d_neg) on a uniform grid of [0, 1]^2
        self.register_buffer("f2_exact", t(exact_f2_grid(preset, float(doc["f2"]["v_mid"]),
                                                         v_half, EXACT_GRID)))
        self.register_buffer("offset_sigma", t(preset.circuit.comparator_offset_sigma / v_half))

    # the checkpoint's buffers are the truth (the curves it was trained with): these read them
    @property
    def n_fs(self) -> float:
        """Full-scale events that fill the track (nominal corner)."""
        return float(self.n_fs_t)

    @property
    def d0(self) -> float:
        return float(self.f2_grid[0])

    @property
    def dd(self) -> float:
        return float(self.f2_grid[1])

    def g(self, w: torch.Tensor) -> torch.Tensor:
        """Per-event increment over the full-scale one of code-linear magnitudes ``w``."""
        return torch.clamp(self.g_fit[0] + _poly_origin(self.g_fit[1:], w), min=0.0)

    def f1_sigma(self, x: torch.Tensor) -> torch.Tensor:
        """Std of the normalized DW position at accumulated normalized input ``x``."""
        return torch.clamp(_poly_origin(self.sigma_fit, x), min=0.0)

    def add_f1_noise(self, inc: torch.Tensor, kz: torch.Tensor) -> torch.Tensor:
        """``max(inc + f1_sigma(inc) kz, 0)`` (``kz`` broadcast over ``inc``'s leading
        axis), in a few fused operations: ``f1_sigma(x) = x max(s1 + s2 x, 0)`` for the
        characterization's degree-2 sigma fit."""
        if self.sigma_fit.numel() != 2:
            return (inc + self.f1_sigma(inc) * kz).clamp(min=0.0)
        rel = (inc * self.sigma_fit[1] + self.sigma_fit[0]).clamp_(min=0.0)
        return torch.addcmul(inc, inc, rel * kz).clamp_(min=0.0)

    def f2(self, d_diff: torch.Tensor) -> torch.Tensor:
        """Worst-case lower bound of the normalized V_pre at ``d_diff`` (clamped to [-1, 1])."""
        return interp_uniform(d_diff, self.d0, self.dd, self.f2_tables[0])

    def f2_sigma(self, d_diff: torch.Tensor) -> torch.Tensor:
        """Std of the normalized V_pre at ``d_diff`` (20 % R variation, Monte Carlo)."""
        return interp_uniform(d_diff, self.d0, self.dd, self.f2_tables[1])

    def f2_tables_trimmed(self) -> torch.Tensor:
        """``f2_tables`` (2, G) with the spread a rest-state offset trim leaves in place of
        f2_sigma: ``sqrt(max(f2_sigma(x)^2 - f2_sigma(0)^2, 0))``, the error at ``x`` taken
        as the rest error (which the trim cancels) plus an independent part. Conservative:
        the two come from the same static resistance factors, so the true residual is
        nearer ``|f2_sigma(x) - f2_sigma(0)|``, smaller."""
        s0 = self.f2_sigma(torch.zeros((), dtype=self.f2_tables.dtype,
                                       device=self.f2_tables.device))
        res = torch.sqrt(torch.clamp(self.f2_tables[1] ** 2 - s0 ** 2, min=0.0))
        return torch.stack([self.f2_tables[0], res])

    def threshold_sigma(self, v_th: torch.Tensor) -> torch.Tensor:
        """Std of a programmed threshold (normalized V) at level ``v_th``: the divider's
        spread (f2_sigma at the same normalized level) and the comparator offset."""
        return torch.sqrt(self.f2_sigma(v_th) ** 2 + self.offset_sigma ** 2)

    def threshold_code(self, v_norm: torch.Tensor) -> torch.Tensor:
        """The code whose level is nearest to ``v_norm`` (int64, same shape)."""
        dist = (v_norm.detach()[..., None] - self.threshold_levels).abs()
        return dist.argmin(-1)
