"""The SOT-driven MDWMTJ: DW motion, bias-dependent TMR and R(q, V); a vectorized array.

Physics (paper Sec. 2, Fig. 1):

* **Motion** (Fig. 1b): a write pulse of current ``I`` (A) and width ``t`` (s) through
  the heavy metal moves the wall by ``dq = v(|I|) t`` with
  ``v = c1 (|I| - I_th) + c2 (|I| - I_th)^2`` above the depinning current and 0 below
  (non-volatile: leakage never moves it). Positive current (T1 -> T2) moves it right
  (towards ``l_fl``, accumulation, Luo et al. 2021), negative current left (reset).
  The wall stops at the track ends: ``q`` stays in ``[0, l_fl]``.
* **TMR roll-off** (Fig. 1c): ``TMR(V) = TMR0 / (1 + (V/V_h)^2)``, ``R_AP(V) = R_P (1+TMR(V))``.
* **R(q, V)** (Fig. 1d): three MTJs in parallel (Sengupta et al. 2016): the AP domain
  ``[0, q)``, the P domain ``(q, l_fl]`` and the wall region where the magnetization is
  perpendicular. With the Walker profile ``cos theta(x) = tanh((x - q)/Delta)`` and the
  angular conductance ``G(theta) = (G_P + G_AP)/2 + (G_P - G_AP)/2 cos theta`` (so the
  perpendicular state has the mean conductance), the area-weighted conductance is
  ``G = G_avg + dG/2 m(q)``, ``m(q) = Delta/l [lncosh((l-q)/Delta) - lncosh(q/Delta)]``,
  normalized so ``m(0) = 1`` and ``m(l) = -1`` (the wall is expelled at the ends:
  ``R(0) = R_P``, ``R(l) = R_AP`` as the paper states). The read path adds the share
  ``hm_read_fraction`` of the heavy-metal resistance.

Positions are stored as int64 ticks of ``l_fl / 2**40`` (about 1e-18 m for a 1 µm track):
integer sums are associative, so a batch of non-negative increments clamped at the track
end gives exactly the same state as the same increments applied one by one.
"""

from __future__ import annotations

import functools

import numpy as np

from analog_models._checks import as_float_array, broadcast, in_range
from analog_models.presets import MDWMTJParams

#: Ticks per track: positions are integers in [0, TRACK_TICKS].
TRACK_BITS = 40
TRACK_TICKS = np.int64(1) << TRACK_BITS
# A single pulse can never move more than a track; capping the tick count keeps int64 safe.
_MAX_STEP = np.int64(2) * TRACK_TICKS


def tmr(p: MDWMTJParams, v: np.ndarray | float) -> np.ndarray:
    """TMR at bias ``v`` (V, any sign): ``TMR0 / (1 + (v / v_half)^2)`` (Fig. 1c)."""
    v = np.asarray(v, dtype=np.float64)
    return p.tmr0 / (1.0 + (v / p.v_half) ** 2)


def _logcosh(x: np.ndarray) -> np.ndarray:
    ax = np.abs(x)
    return ax + np.log1p(np.exp(-2.0 * ax)) - np.log(2.0)


def wall_profile_mean(p: MDWMTJParams, d: np.ndarray) -> np.ndarray:
    """Mean of cos(theta) over the track for normalized position ``d = q / l_fl``.

    +1 at d = 0 (all P), -1 at d = 1 (all AP), odd about d = 1/2; shape of ``d``.
    """
    d = np.asarray(d, dtype=np.float64)
    k = p.l_fl / p.dw_width
    m = (_logcosh(k * (1.0 - d)) - _logcosh(k * d)) / k
    m_end = _logcosh(np.float64(k)) / k
    return np.clip(m / m_end, -1.0, 1.0)


def wall_profile_mean_ticks(p: MDWMTJParams, ticks: np.ndarray) -> np.ndarray:
    """:func:`wall_profile_mean` of positions given in ticks (int, in ``[0, TRACK_TICKS]``),
    equal to it up to rounding (< 1e-15) and cheaper (the comparator latch's hot path).

    ``lncosh(a) - lncosh(b)`` with ``a = k (1 - d)``, ``b = k d``, ``k = l_fl / Delta``: the
    ``ln 2`` of both terms cancel, leaving ``a - b + sp(a) - sp(b)`` with
    ``sp(x) = ln(1 + e^(-2x))`` < 4.3e-18 for ``x >= 20``: only walls within 20 wall widths
    of an end need a transcendental; ``log(1 + y)`` is exact to rounding there (``log1p``
    would gain < 1e-16 on terms added to ``|a - b| >= k - 40``)."""
    k = p.l_fl / p.dw_width
    b = np.asarray(ticks) * (k / float(TRACK_TICKS))
    m = np.array(k - 2.0 * b, dtype=np.float64)  # an array even for a scalar: updated in place
    for x, sign in ((b, -1.0), (k - b, 1.0)):
        near = np.flatnonzero(x < 20.0)
        if near.size:
            m.reshape(-1)[near] += sign * np.log(1.0 + np.exp(-2.0 * x.reshape(-1)[near]))
    return m * _inv_m_end(k)


@functools.lru_cache(maxsize=16)
def _inv_m_end(k: float) -> float:
    """``1 / lncosh(k)``: the normalization of ``a - b + ...`` to ``m(0) = 1``."""
    return 1.0 / float(_logcosh(np.float64(k)))


def mtj_resistance(p: MDWMTJParams, d: np.ndarray, v: np.ndarray | float = 0.0,
                   r_scale: np.ndarray | float = 1.0) -> np.ndarray:
    """Tunnel resistance (ohm) at normalized position ``d`` and bias ``v`` (V).

    ``r_scale`` multiplies R_P and R_AP together (static device-to-device variation).
    Bounds: ``R_P r_scale <= R <= R_P r_scale (1 + TMR(v))``.
    """
    return _resistance_m(p, wall_profile_mean(p, d), v, r_scale)


def _resistance_m(p: MDWMTJParams, m: np.ndarray, v, r_scale) -> np.ndarray:
    """Tunnel resistance from the wall-profile mean ``m`` (see :func:`wall_profile_mean`)."""
    g_p = 1.0 / (p.r_p * np.asarray(r_scale, dtype=np.float64))
    g_ap = g_p / (1.0 + tmr(p, v))
    return 1.0 / (0.5 * (g_p + g_ap) + 0.5 * (g_p - g_ap) * m)


def effective_resistance(p: MDWMTJParams, d: np.ndarray, v: np.ndarray | float = 0.0,
                         r_scale: np.ndarray | float = 1.0,
                         hm_scale: np.ndarray | float = 1.0) -> np.ndarray:
    """Read-path resistance T3 -> T2 (ohm): tunnel resistance plus the HM share (Fig. 1d)."""
    return mtj_resistance(p, d, v, r_scale) + p.hm_read_fraction * p.r_hm * np.asarray(hm_scale)


def resistance_at_current(p: MDWMTJParams, d: np.ndarray, current: np.ndarray,
                          r_scale: np.ndarray | float = 1.0, iters: int = 4) -> np.ndarray:
    """Tunnel resistance (ohm) when ``current`` (A) flows through it: solves ``V = I R(d, V)``.

    Fixed-point iteration from the zero-bias value; ``V = I R`` is monotone in ``I`` because
    ``R`` falls with ``V`` (the map converges in a few steps for |V| < v_half).
    """
    return resistance_at_current_m(p, wall_profile_mean(p, d), current, r_scale, iters)


def resistance_at_current_m(p: MDWMTJParams, m: np.ndarray, current: np.ndarray,
                            r_scale: np.ndarray | float = 1.0, iters: int = 4) -> np.ndarray:
    """As :func:`resistance_at_current` from a precomputed wall-profile mean ``m``."""
    r = _resistance_m(p, m, 0.0, r_scale)
    for _ in range(iters):
        r = _resistance_m(p, m, current * r, r_scale)
    return r


def displacement(p: MDWMTJParams, current: np.ndarray, width: np.ndarray) -> np.ndarray:
    """Wall displacement (m) of one pulse: ``v(current) * width``; current, width >= 0."""
    return p.velocity(current) * width


def to_ticks(p: MDWMTJParams, dq: np.ndarray) -> np.ndarray:
    """Displacement (m, >= 0) -> int64 ticks, rounded down, capped at two tracks."""
    t = np.floor(np.minimum(np.asarray(dq, dtype=np.float64) / p.l_fl, 2.0) * float(TRACK_TICKS))
    return t.astype(np.int64)


class MDWMTJArray:
    """Any number of MDWMTJs of one kind, shape ``shape``, vectorized over all of them.

    State: DW positions ``q`` (m, in ``[0, l_fl]``), stored as int64 ticks.
    Static variation: ``r_scale`` (R_P and R_AP factor) and ``hm_scale`` (HM factor),
    broadcastable to ``shape``; 1.0 is the nominal device. Reset pulses: magnitude
    ``reset_current`` (A), nominal width ``reset_width`` (s), which must sweep the track
    (defaults: the ``paper2024`` accumulator reset, 13.5 uA for 160 ns).
    """

    def __init__(self, params: MDWMTJParams, shape: tuple[int, ...] | int,
                 r_scale: np.ndarray | float = 1.0, hm_scale: np.ndarray | float = 1.0,
                 reset_current: float = 13.5e-6, reset_width: float = 160e-9) -> None:
        params.validate()
        self.params = params
        self.shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
        if any((not isinstance(s, (int, np.integer))) or s < 0 for s in self.shape):
            raise ValueError(f"shape: must be non-negative integers, got {shape!r}")
        rs = as_float_array("r_scale", r_scale)
        hs = as_float_array("hm_scale", hm_scale)
        if np.any(rs <= 0):
            raise ValueError(f"r_scale: must be > 0, got min {rs.min()!r}")
        if np.any(hs <= 0):
            raise ValueError(f"hm_scale: must be > 0, got min {hs.min()!r}")
        self.r_scale = np.array(broadcast("r_scale", rs, self.shape))
        self.hm_scale = np.array(broadcast("hm_scale", hs, self.shape))
        self.reset_current = float(as_float_array("reset_current", reset_current))
        self.reset_width = float(as_float_array("reset_width", reset_width))
        if params.velocity(self.reset_current) * self.reset_width < params.l_fl:
            raise ValueError(
                f"reset_width: {self.reset_width} s at {self.reset_current} A does not sweep "
                f"the {params.l_fl} m track"
            )
        self.ticks = np.zeros(self.shape, dtype=np.int64)

    # ------------------------------------------------------------------ state
    @property
    def q(self) -> np.ndarray:
        """DW positions (m), ``shape``."""
        return self.ticks.astype(np.float64) * (self.params.l_fl / float(TRACK_TICKS))

    @property
    def d(self) -> np.ndarray:
        """Normalized DW positions ``q / l_fl`` in [0, 1], ``shape``."""
        return self.ticks.astype(np.float64) / float(TRACK_TICKS)

    def set_positions(self, q: np.ndarray | float) -> None:
        """Place the walls at ``q`` (m, broadcastable to ``shape``, within ``[0, l_fl]``)."""
        a = as_float_array("q", q)
        in_range("q", a, 0.0, self.params.l_fl)
        a = broadcast("q", a, self.shape)
        self.ticks = np.minimum(to_ticks(self.params, a), TRACK_TICKS)

    # ------------------------------------------------------------------ writes
    def pulse_ticks(self, current: np.ndarray | float, width: np.ndarray | float) -> np.ndarray:
        """Displacement (ticks) of one pulse per device; validates current (A) and width (s)."""
        i = as_float_array("current", current)
        w = as_float_array("width", width)
        i = broadcast("current", i, self.shape)
        w = broadcast("width", w, self.shape)
        return to_ticks(self.params, displacement(self.params, i, w))

    def add_ticks(self, steps: np.ndarray, direction: int = +1) -> None:
        """Move every wall by ``steps`` ticks (>= 0) right (+1) or left (-1), clamped to the track."""
        if direction == 1:
            self.ticks = np.minimum(self.ticks + np.minimum(steps, _MAX_STEP), TRACK_TICKS)
        elif direction == -1:
            self.ticks = np.maximum(self.ticks - np.minimum(steps, _MAX_STEP), 0)
        else:
            raise ValueError(f"direction: must be +1 or -1, got {direction!r}")

    def apply_pulses(self, current: np.ndarray | float, width: np.ndarray | float,
                     direction: int = +1) -> None:
        """One write pulse per device: magnitude ``current`` (A, >= 0), ``width`` (s, >= 0).

        ``direction`` +1: T1 -> T2, wall moves right (accumulate); -1: T2 -> T1, left.
        Below the depinning current nothing moves. Shapes broadcast to ``shape``.
        """
        self.add_ticks(self.pulse_ticks(current, width), direction)

    def reset_ticks(self, width: float | None = None) -> np.int64:
        """Leftward displacement (ticks) of one reset pulse of ``width`` (s; None: the
        nominal ``reset_width``): ``v(reset_current) * width``, capped at two tracks."""
        w = as_float_array("width_s", self.reset_width if width is None else width)
        if w.ndim != 0:
            raise ValueError(f"width_s: must be a scalar (s), got shape {w.shape}")
        return to_ticks(self.params, displacement(self.params, np.float64(self.reset_current),
                                                  w))[()]

    def reset(self, mask: np.ndarray | None = None, width: float | None = None) -> None:
        """The long negative reset pulse on the devices selected by ``mask`` (all if None)
        (paper Sec. 2): each wall moves left by ``v(reset_current) * width`` and stops at
        q = 0. ``width`` (s): None is the nominal ``reset_width``, which sweeps the whole
        track; a shorter pulse leaves a wall further right than that short of q = 0."""
        step = self.reset_ticks(width)
        if mask is None:
            self.add_ticks(step, -1)
            return
        m = np.asarray(mask)
        if m.dtype != bool:
            raise ValueError(f"mask: must be boolean, got dtype {m.dtype}")
        m = broadcast("mask", m, self.shape)
        self.ticks = np.where(m, np.maximum(self.ticks - step, 0), self.ticks)

    # ------------------------------------------------------------------ reads
    def resistance(self, v: np.ndarray | float = 0.0) -> np.ndarray:
        """Effective read resistance (ohm) at bias ``v`` (V, broadcastable), ``shape``."""
        vv = as_float_array("v", v, nonneg=False)
        return effective_resistance(self.params, self.d, vv, self.r_scale, self.hm_scale)
