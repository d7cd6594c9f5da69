"""Readout: series dividers of two MDWMTJs (pre-activation and threshold) and the comparator.

Paper Sec. 3: ``V_pre`` comes from the series division of the negative (top) and the
positive (bottom) accumulator MDWMTJs across ``V_read``; the threshold ``V_th`` from a
series divider of two programmable MDWMTJs; a comparator fires when ``V_pre > V_th``.

Each device conducts ``I = V / R_eff(d, V)`` with the bias-dependent TMR (Fig. 1c); the
node voltage solves ``I_top(V_read - V_out) = I_bot(V_out)`` (bisection: the left side
falls and the right side rises with ``V_out``, so the root is unique). The TMR is evaluated
at the full device voltage (assumption: the HM share of the drop is small, 0.25 kOhm of
>= 10 kOhm).
"""

from __future__ import annotations

import numpy as np

from analog_models.mdwmtj import effective_resistance
from analog_models.presets import MDWMTJParams


def divider_voltage(p_top: MDWMTJParams, d_top: np.ndarray, p_bot: MDWMTJParams,
                    d_bot: np.ndarray, v_supply: float,
                    r_scale_top: np.ndarray | float = 1.0, hm_scale_top: np.ndarray | float = 1.0,
                    r_scale_bot: np.ndarray | float = 1.0, hm_scale_bot: np.ndarray | float = 1.0,
                    iters: int = 36) -> np.ndarray:
    """Output node voltage (V) of the divider ``v_supply - top - out - bottom - ground``.

    ``d_top``, ``d_bot``: normalized DW positions (broadcast together); the result has
    their broadcast shape. Resolution ``v_supply / 2**iters``.
    """
    shape = np.broadcast_shapes(np.shape(d_top), np.shape(d_bot), np.shape(r_scale_top),
                                np.shape(r_scale_bot))
    lo = np.zeros(shape)
    hi = np.full(shape, float(v_supply))
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        vt = v_supply - mid
        i_top = vt / effective_resistance(p_top, d_top, vt, r_scale_top, hm_scale_top)
        i_bot = mid / effective_resistance(p_bot, d_bot, mid, r_scale_bot, hm_scale_bot)
        up = i_top > i_bot  # more current in than out: the node rises
        lo = np.where(up, mid, lo)
        hi = np.where(up, hi, mid)
    return 0.5 * (lo + hi)


def comparator(v_pre: np.ndarray, v_th: np.ndarray, offset: np.ndarray | float = 0.0) -> np.ndarray:
    """Comparator decisions: ``v_pre > v_th + offset`` (bool, broadcast shape)."""
    return np.asarray(v_pre) > np.asarray(v_th) + offset
