"""Weight cells: CMOS, MDWMTJ and CMOS+X current sources (paper Sec. 3.1, Fig. 3).

An event pulse turns on the weight transistor of every weight cell the event's pixel
drives; the write current ``I_W`` flows

    V_write -> [weight MDWMTJ, T3 -> T2]  -> drain | NMOS (gate = V_gate) | source
            -> [accumulator heavy metal, T1 -> T2] -> ground

* ``cmos``: no MDWMTJ; the transistor width (fixed at fabrication) sets ``I_W``.
* ``mdwmtj``: a fixed wide switch transistor; the programmed DW position of the weight
  MDWMTJ sets its resistance, hence ``I_W`` (low dynamic range: TMR 200 %).
* ``cmos+x``: both in series; the transistor width gives the dynamic range, the MDWMTJ
  a modest programmable trim (paper: 30-40 % of the median for most weights).

``I_W`` solves the series circuit by false position (the residual is monotone in ``I``; the
MDWMTJ resistance is evaluated at its own bias, Fig. 1c). The weight MDWMTJs never move
during a MAC: ``I_TH2 > I_W,MAX`` is checked (:meth:`WeightCellModel.check_weight_devices_static`).

Codes (``ChipConfig``): ``weight_codes`` is the transistor width code for ``cmos`` and
the number of set pulses after a reset for the MDWMTJ (``mdwmtj``, ``cmos+x``): more set
pulses move the wall towards AP, a higher resistance, a SMALLER weight. ``transistor_codes``
(``cmos+x``) is the width code. :meth:`WeightCellModel.codes_for_weights` maps normalized
weights to codes; :meth:`WeightCellModel.normalized_weight` maps codes back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analog_models.chip_config import WEIGHT_CONFIGS
from analog_models.mdwmtj import resistance_at_current_m, wall_profile_mean
from analog_models.presets import DevicePreset, TransistorParams


def ekv_current(tp: TransistorParams, width: np.ndarray, vg: float, vs: np.ndarray,
                vd: np.ndarray, dvt: np.ndarray | float = 0.0,
                beta_factor: np.ndarray | float = 1.0, length: float | None = None) -> np.ndarray:
    """Drain current (A) of the NMOS, EKV long-channel model valid in all regions.

    ``width`` (m), gate/source/drain voltages (V), ``dvt`` threshold shift (V),
    ``beta_factor`` current-factor multiplier; all broadcast together. ``length`` (m)
    defaults to ``tp.length``.
    """
    beta = tp.kp * np.asarray(width) / (tp.length if length is None else length) * beta_factor
    vp = (vg - (tp.vt0 + dvt)) / tp.n
    ut = tp.u_t

    def f(u: np.ndarray) -> np.ndarray:
        return np.logaddexp(0.0, 0.5 * u) ** 2

    vds = np.maximum(vd - vs, 0.0)
    return 2.0 * tp.n * beta * ut * ut * (f((vp - vs) / ut) - f((vp - vd) / ut)) * (1.0 + tp.lam * vds)


@dataclass
class CellVariation:
    """Static variation of a set of weight cells (all broadcast to the cells' shape).

    ``dvt`` (V) and ``beta_factor``: weight transistor mismatch; ``r_scale``/``hm_scale``:
    weight MDWMTJ resistance factors; ``acc_hm_scale``: the driven accumulator's HM factor.
    """

    dvt: np.ndarray | float = 0.0
    beta_factor: np.ndarray | float = 1.0
    r_scale: np.ndarray | float = 1.0
    hm_scale: np.ndarray | float = 1.0
    acc_hm_scale: np.ndarray | float = 1.0


class WeightCellModel:
    """Write current of the weight cells of one configuration (``cmos``/``mdwmtj``/``cmos+x``)."""

    def __init__(self, preset: DevicePreset, weight_config: str, weight_bits: int = 4,
                 transistor_bits: int = 4) -> None:
        if weight_config not in WEIGHT_CONFIGS:
            raise ValueError(f"weight_config: must be one of {WEIGHT_CONFIGS}, got {weight_config!r}")
        for name, b in (("weight_bits", weight_bits), ("transistor_bits", transistor_bits)):
            if not isinstance(b, (int, np.integer)) or not 1 <= b <= 16:
                raise ValueError(f"{name}: must be an integer in [1, 16], got {b!r}")
        self.preset = preset
        self.config = weight_config
        self.weight_bits = int(weight_bits)
        self.transistor_bits = int(transistor_bits)
        self.w_max_code = 2**self.weight_bits - 1
        self.t_max_code = 2**self.transistor_bits - 1

    # ------------------------------------------------------------ geometry
    @property
    def length(self) -> float:
        """Gate length (m) of this configuration's weight transistors."""
        scale = self.preset.circuit.cmosx_size_scale if self.config == "cmos+x" else 1.0
        return self.preset.transistor.length * scale

    def transistor_width(self, weight_codes: np.ndarray,
                         transistor_codes: np.ndarray | None = None) -> np.ndarray:
        """Width (m) of the weight transistor of each cell (shape of the codes)."""
        c = self.preset.circuit
        wu = self.preset.transistor.w_unit
        if self.config == "cmos":
            lo, hi = c.cmos_w_codes
            return (lo + (hi - lo) * np.asarray(weight_codes) / self.w_max_code) * wu
        if self.config == "mdwmtj":
            return np.full(np.shape(weight_codes), float(c.mdwmtj_switch_w_codes) * wu)
        if transistor_codes is None:
            raise ValueError("transistor_codes: required for weight_config 'cmos+x'")
        lo, hi = c.cmosx_w_codes
        return (lo + (hi - lo) * np.asarray(transistor_codes) / self.t_max_code) * wu \
            * c.cmosx_size_scale

    def mtj_position(self, weight_codes: np.ndarray) -> np.ndarray | None:
        """Nominal normalized DW position of the weight MDWMTJ (None for ``cmos``)."""
        if self.config == "cmos":
            return None
        return np.asarray(weight_codes, dtype=np.float64) / self.w_max_code

    # ------------------------------------------------------------ current
    def current(self, width: np.ndarray, mtj_d: np.ndarray | None,
                var: CellVariation | None = None, iters: int = 12) -> np.ndarray:
        """Write current ``I_W`` (A) of cells with transistor ``width`` (m) and weight-MDWMTJ
        normalized position ``mtj_d`` (None: no MDWMTJ), under static variation ``var``.

        Solves ``I = I_D(V_S = I R_acc, V_D = V_write - I R_w(I))`` by the Illinois method.
        """
        var = var or CellVariation()
        p = self.preset
        tp, c = p.transistor, p.circuit
        r_acc = p.accumulator.r_hm * np.asarray(var.acc_hm_scale, dtype=np.float64)
        shape = np.broadcast_shapes(np.shape(width), np.shape(mtj_d) if mtj_d is not None else (),
                                    np.shape(var.dvt), np.shape(var.beta_factor),
                                    np.shape(var.r_scale), np.shape(var.hm_scale), np.shape(r_acc))
        wdev = p.weight_device
        v_write = p.v_write(self.config)
        m = None if mtj_d is None else wall_profile_mean(wdev, mtj_d)
        r_hm_w = wdev.hm_read_fraction * wdev.r_hm * np.asarray(var.hm_scale)

        def r_top(i: np.ndarray) -> np.ndarray:
            if m is None:
                return np.zeros(shape)
            return resistance_at_current_m(wdev, m, i, var.r_scale, 3) + r_hm_w

        def resid(i: np.ndarray) -> np.ndarray:
            vs = i * r_acc
            vd = v_write - i * r_top(i)
            return i - ekv_current(tp, width, c.v_gate, vs, np.maximum(vd, vs), var.dvt,
                                   var.beta_factor, self.length)

        # Illinois false position on the monotone residual (bracket [0, I_D(no series R)]).
        lo = np.zeros(shape)
        hi = np.broadcast_to(
            ekv_current(tp, width, c.v_gate, 0.0, v_write, var.dvt, var.beta_factor, self.length)
            * 1.001
            + 1e-12, shape).copy()
        f_lo = resid(lo)
        f_hi = resid(hi)
        side = np.zeros(shape, dtype=np.int8)
        for _ in range(iters):
            x = hi - f_hi * (hi - lo) / np.where(f_hi - f_lo == 0, 1.0, f_hi - f_lo)
            x = np.clip(x, lo, hi)
            fx = resid(x)
            up = fx > 0
            # root in [lo, x]: x becomes hi; if hi was kept twice, halve f_lo (Illinois)
            f_lo = np.where(up & (side == 1), 0.5 * f_lo, f_lo)
            f_hi = np.where(~up & (side == -1), 0.5 * f_hi, f_hi)
            hi = np.where(up, x, hi)
            f_hi = np.where(up, fx, f_hi)
            lo = np.where(up, lo, x)
            f_lo = np.where(up, f_lo, fx)
            side = np.where(up, 1, -1).astype(np.int8)
        return np.where(np.abs(f_lo) < np.abs(f_hi), lo, hi)

    def cell_current(self, weight_codes: np.ndarray, transistor_codes: np.ndarray | None = None,
                     var: CellVariation | None = None,
                     mtj_d: np.ndarray | None = None) -> np.ndarray:
        """``I_W`` (A) for codes (shapes broadcast). ``mtj_d`` overrides the nominal
        programmed position (e.g. the position reached with programming jitter)."""
        w = self.transistor_width(weight_codes, transistor_codes)
        d = self.mtj_position(weight_codes) if mtj_d is None else mtj_d
        if self.config == "cmos":
            d = None
        return self.current(w, d, var)

    # ------------------------------------------------------------ mapping
    def nominal_increment(self, weight_codes: np.ndarray,
                          transistor_codes: np.ndarray | None = None) -> np.ndarray:
        """Nominal DW displacement (m) of the accumulator per event pulse (no variation)."""
        i = self.cell_current(weight_codes, transistor_codes)
        return self.preset.accumulator.velocity(i) * self.preset.circuit.write_pulse_width

    def full_scale_increment(self) -> float:
        """Largest nominal per-event displacement (m) over all codes of this configuration."""
        return float(np.max(self._table()))

    def _table(self) -> np.ndarray:
        wc = np.arange(self.w_max_code + 1)
        if self.config == "cmos+x":
            tc = np.arange(self.t_max_code + 1)
            return self.nominal_increment(wc[None, :], tc[:, None])  # (T, W)
        return self.nominal_increment(wc)

    def normalized_weight(self, weight_codes: np.ndarray,
                          transistor_codes: np.ndarray | None = None) -> np.ndarray:
        """Nominal per-event displacement of the codes over the full-scale one, in [0, 1]."""
        return self.nominal_increment(weight_codes, transistor_codes) / self.full_scale_increment()

    def codes_for_weights(self, w: np.ndarray, mtj_code: int | None = None
                          ) -> tuple[np.ndarray, np.ndarray | None]:
        """Nearest codes for normalized weight magnitudes ``w`` (in [0, 1], any shape).

        Returns ``(weight_codes, transistor_codes)`` (the latter None unless ``cmos+x``).
        ``cmos+x``: with ``mtj_code`` given, only the transistor code is chosen (the MDWMTJ
        stays at that code, e.g. the median); otherwise the best pair.
        """
        w = np.asarray(w, dtype=np.float64)
        if np.any(~np.isfinite(w)) or np.any(w < 0) or np.any(w > 1):
            raise ValueError(f"w: normalized weights must lie in [0, 1], got range "
                             f"[{np.nanmin(w) if w.size else 0}, {np.nanmax(w) if w.size else 0}]")
        table = self._table() / self.full_scale_increment()
        if self.config != "cmos+x":
            k = np.abs(w[..., None] - table).argmin(-1)
            return k.astype(np.int64), None
        if mtj_code is not None:
            col = table[:, int(mtj_code)]
            t = np.abs(w[..., None] - col).argmin(-1)
            return np.full(w.shape, int(mtj_code), dtype=np.int64), t.astype(np.int64)
        flat = table.reshape(-1)
        k = np.abs(w[..., None] - flat).argmin(-1)
        t, wc = np.divmod(k, table.shape[1])
        return wc.astype(np.int64), t.astype(np.int64)

    def max_write_current(self) -> float:
        """I_W,MAX (A): the largest write current over all codes, with +3 sigma mismatch and
        the -3 sigma resistance corner (worst case for the weight devices)."""
        tp = self.preset.transistor
        wc = np.arange(self.w_max_code + 1)
        tc = np.arange(self.t_max_code + 1) if self.config == "cmos+x" else None
        width = self.transistor_width(wc[None, :], tc[:, None] if tc is not None else None)
        area = width * self.length
        var = CellVariation(dvt=-tp.n_sigma * tp.a_vt / np.sqrt(area),
                            beta_factor=1 + tp.n_sigma * tp.a_beta / np.sqrt(area),
                            r_scale=1 - self.preset.weight_device.r_var_3sigma,
                            hm_scale=1 - self.preset.weight_device.r_var_3sigma,
                            acc_hm_scale=1 - self.preset.accumulator.r_var_3sigma)
        d = None if self.config == "cmos" else self.mtj_position(wc)[None, :]
        return float(np.max(self.current(width, d, var)))

    def check_weight_devices_static(self) -> float:
        """Check I_TH2 > I_W,MAX (paper Sec. 3.1); returns I_W,MAX (A), raises otherwise."""
        i_max = self.max_write_current()
        if self.config != "cmos" and not self.preset.weight_device.i_th > i_max:
            raise ValueError(
                f"weight_device.i_th: I_TH2 = {self.preset.weight_device.i_th} A must exceed "
                f"I_W,MAX = {i_max} A, or the MAC current would reprogram the weights"
            )
        return i_max
