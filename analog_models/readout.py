"""Readout: series dividers of two MDWMTJs (pre-activation and threshold) and the comparator.

Paper Sec. 3: ``V_pre`` comes from the series division of the negative (top) and the
positive (bottom) accumulator MDWMTJs across ``V_read``; the threshold ``V_th`` from a
series divider of two programmable MDWMTJs; a comparator fires when ``V_pre > V_th``.

Each device conducts ``I = V / R_eff(d, V)`` with the bias-dependent TMR (Fig. 1c); the
node voltage solves ``I_top(V_read - V_out) = I_bot(V_out)`` (bisection: the left side
falls and the right side rises with ``V_out``, so the root is unique). The TMR is evaluated
at the full device voltage (assumption: the HM share of the drop is small, 0.25 kOhm of
>= 10 kOhm).

The comparator decision needs no solve (:class:`DividerComparator`): because
``I_top(V_read - V)`` falls and ``I_bot(V)`` rises strictly with ``V``,
``V_out > V_ref  <=>  I_top(V_read - V_ref) > I_bot(V_ref)``. At a fixed reference
(``V_th + offset``, static between programming pulses) each device's conductance is affine
in its wall-profile mean ``m``, ``G = A + B m``, with ``A``, ``B`` and the HM term fixed per
neuron; one latch is then a few multiply-adds per neuron, cross-multiplied (no division).
"""

from __future__ import annotations

import numpy as np

from analog_models.mdwmtj import effective_resistance, tmr
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


def divider_current(p_top: MDWMTJParams, d_top: np.ndarray, p_bot: MDWMTJParams,
                    d_bot: np.ndarray, v_supply: float,
                    r_scale_top: np.ndarray | float = 1.0, hm_scale_top: np.ndarray | float = 1.0,
                    r_scale_bot: np.ndarray | float = 1.0,
                    hm_scale_bot: np.ndarray | float = 1.0) -> np.ndarray:
    """Read current (A) through the divider (both devices and their heavy metal, in
    series): ``V_out / R_eff,bot(V_out)``; arguments as :func:`divider_voltage`."""
    v = divider_voltage(p_top, d_top, p_bot, d_bot, v_supply, r_scale_top, hm_scale_top,
                        r_scale_bot, hm_scale_bot)
    return v / effective_resistance(p_bot, d_bot, v, r_scale_bot, hm_scale_bot)


def _affine_conductance(p: MDWMTJParams, v: np.ndarray, r_scale) -> tuple[np.ndarray, np.ndarray]:
    """``(A, B)`` (S) with the tunnel conductance ``G = A + B m`` at bias ``v`` (V)."""
    g_p = 1.0 / (p.r_p * np.asarray(r_scale, dtype=np.float64))
    g_ap = g_p / (1.0 + tmr(p, v))
    return 0.5 * (g_p + g_ap), 0.5 * (g_p - g_ap)


class DividerComparator:
    """Exact comparator of a divider's output against a fixed reference, without solving.

    ``v_ref`` (V, per element): the reference (``V_th + offset``); the other arguments as
    :func:`divider_voltage` (the variation factors of the two devices). :meth:`above` with
    the wall-profile means of the two devices answers ``V_out > v_ref`` (bool), equal to the
    decision of an exact solve of the divider; what floating point leaves undecided lies
    within ~1e-15 V of the reference (tested: identical to a 100-step bisection wherever
    the two voltages differ by more than 1e-9 V).
    """

    def __init__(self, p_top: MDWMTJParams, p_bot: MDWMTJParams, v_supply: float,
                 v_ref: np.ndarray, r_scale_top: np.ndarray | float = 1.0,
                 hm_scale_top: np.ndarray | float = 1.0, r_scale_bot: np.ndarray | float = 1.0,
                 hm_scale_bot: np.ndarray | float = 1.0) -> None:
        v_ref = np.asarray(v_ref, dtype=np.float64)
        self.u_top = v_supply - v_ref  # bias of the top device (V) at the reference
        self.u_bot = v_ref
        self.a_top, self.b_top = _affine_conductance(p_top, self.u_top, r_scale_top)
        self.a_bot, self.b_bot = _affine_conductance(p_bot, self.u_bot, r_scale_bot)
        self.h_top = p_top.hm_read_fraction * p_top.r_hm * np.asarray(hm_scale_top, np.float64)
        self.h_bot = p_bot.hm_read_fraction * p_bot.r_hm * np.asarray(hm_scale_bot, np.float64)
        terms = (self.u_top, self.a_top, self.b_top, self.h_top,
                 self.u_bot, self.a_bot, self.b_bot, self.h_bot)
        shape = np.broadcast_shapes(*(np.shape(t) for t in terms))
        # one (8, n) table: a subset of elements is one gather
        self._flat = np.stack([np.broadcast_to(t, shape).reshape(-1) for t in terms])

    def above(self, m_top: np.ndarray, m_bot: np.ndarray,
              sel: np.ndarray | None = None) -> np.ndarray:
        """``V_out > v_ref`` for wall-profile means ``m_top``, ``m_bot`` (bool).

        ``sel``: flat indices of the elements ``m_top``/``m_bot`` hold (1-D, in the order
        given); None: all, in the reference's shape.
        ``I = u G / (1 + h G)`` per device (tunnel conductance ``G``, HM resistance ``h``);
        ``I_top > I_bot  <=>  u_top G_top (1 + h_bot G_bot) > u_bot G_bot (1 + h_top G_top)``.
        """
        if sel is None:
            u_t, a_t, b_t, h_t = self.u_top, self.a_top, self.b_top, self.h_top
            u_b, a_b, b_b, h_b = self.u_bot, self.a_bot, self.b_bot, self.h_bot
        else:
            u_t, a_t, b_t, h_t, u_b, a_b, b_b, h_b = self._flat[:, sel]
        g_top = a_t + b_t * m_top
        g_bot = a_b + b_b * m_bot
        return u_t * g_top * (1.0 + h_b * g_bot) > u_b * g_bot * (1.0 + h_t * g_top)
