"""The non-volatile MDWMTJ membrane of the ``fitted`` first layer, with a hand-written
backward pass (the time loop is the layer's cost; autograd's graph of ~30 small ops per
window made a training step 6x the ideal layer's).

Per window ``t`` and neuron (``inc``: the window's DW increments, normalized to the track):

    i_t   = max(inc_t + kz f1_sigma(inc_t), 0)  (kz: the accumulator's f1 noise, or 0)
    a_t   = d_{t-1} + i_t                 (both accumulators)
    e_t   = min(a_t, 1)                   (the wall stops at the track end)
    v_t   = V(e_t) + k_v f2_sigma(x_t)    (x_t = e_pos - e_neg; k_v: the V noise, or 0)
    s_t   = [v_t > theta]                 (the comparator: strict, as the chip's)
    d_t   = e_t (1 - s_t)                 (hard reset of both walls on a spike)

``V`` is either the paper's worst-case lower bound ``f2(e_pos - e_neg)`` (piecewise linear
on a uniform grid, one table lookup) or the exact nominal divider ``F2(e_pos, e_neg)``
(bilinear on a uniform 2-D grid, ``table2d``); ``f2_sigma`` is piecewise linear.
Backward: the comparator's derivative is the arctan surrogate
``alpha / 2 / (1 + (pi/2 alpha u)^2)``, ``u = (v - theta) / width``; the reset is detached
(as SpikingJelly's ``detach_reset``); the clamp at the track end passes no gradient.
:func:`membrane_reference` is the same computation in plain autograd: the tests check both
agree in value and gradient.
"""

from __future__ import annotations

import math

import torch

ALPHA = 2.0  # arctan surrogate sharpness (SpikingJelly's ATan default)


def _surrogate_grad(u: torch.Tensor, width: float = 1.0) -> torch.Tensor:
    """The arctan surrogate's derivative at ``u / width``, over ``width``:
    ``alpha / 2 / (1 + (pi/2 alpha u / width)^2) / width``, in one new buffer."""
    c = math.pi / 2.0 * ALPHA / width
    return torch.mul(u, c).square_().add_(1.0).reciprocal_().mul_(ALPHA / 2.0 / width)


def _line_tables(tab: torch.Tensor):
    """Per grid point (G): value and slope per GRID UNIT to the next point (the last slope
    repeated, used only at distance 0), contiguous 1-D each."""
    slope = tab[1:] - tab[:-1]
    return tab.contiguous(), torch.cat([slope, slope[-1:]]).contiguous()


def _cell_tables(t2: torch.Tensor) -> torch.Tensor:
    """Per cell of a (G, G) grid, flattened ((G-1)^2, 4): the coefficients (a, b, c, e) of
    ``v = a + b fp + c fn + e fp fn`` on the cell's unit square (fp, fn in [0, 1]), one row
    per cell (one gather fetches all four)."""
    t00, t10, t01, t11 = t2[:-1, :-1], t2[1:, :-1], t2[:-1, 1:], t2[1:, 1:]
    return torch.stack([x.reshape(-1) for x in (t00, t10 - t00, t01 - t00,
                                                t11 - t10 - t01 + t00)], 1).contiguous()


class _Membrane(torch.autograd.Function):
    @staticmethod
    def forward(ctx, inc, theta, k_v, tables, x0, dx, width, kz, s1, s2, table2d):
        # inc (T, 2, N...); theta broadcastable to (N...); k_v (N...) or None; kz (2, N...)
        # or None (f1 noise, sigma_f1(x) = x max(s1 + s2 x, 0)); tables (2, G): f2, f2_sigma
        # on x0 + i dx; table2d (G2, G2) or None: the exact V(e_pos, e_neg) on [0, 1]^2
        T = inc.shape[0]
        deriv = None
        if kz is not None:
            deriv = torch.empty_like(inc)  # d(noisy increment) / d(increment)
            kz2 = kz * s2
        f2_val, f2_slope = _line_tables(tables[0])
        sg_val, sg_slope = _line_tables(tables[1])
        top = float(tables.shape[1] - 1)
        if table2d is not None:
            g2 = table2d.shape[0] - 1
            coef = _cell_tables(table2d)
        d = torch.zeros_like(inc[0])
        spikes = torch.empty((T,) + inc.shape[2:], dtype=inc.dtype, device=inc.device)
        # the state and what is saved keep inc's memory layout (elementwise ops between
        # tensors of one layout run contiguous; P2MConv passes a transposed view)
        unsat = torch.empty_like(inc)  # 1.0 where a wall is below the track end (float: the
        # comparison writes it directly, and the backward multiplies by it without a cast)
        slope = torch.empty_like(inc)  # dV/de_pos, dV/de_neg
        margin = torch.empty_like(spikes)  # v - theta
        for t in range(T):
            it = inc[t]
            if kz is not None:  # x + kz x max(s1 + s2 x, 0), then >= 0
                r = torch.mul(it, s2).add_(s1)
                rpos = r > 0
                r.clamp_(min=0.0).mul_(kz)  # kz sigma(x) / x
                noisy = torch.addcmul(it, it, r)
                live = noisy > 0
                torch.addcmul(r.add_(1.0), it, kz2 * rpos, out=deriv[t]).mul_(live)
                it = noisy.clamp_(min=0.0)
            a = d.add_(it)
            torch.le(a, 1.0, out=unsat[t])  # torch.clamp's gradient mask: a == 1 passes
            e = a.clamp_(max=1.0)
            sl = slope[t]
            if table2d is None or k_v is not None:
                pos = torch.sub(e[0], e[1]).sub_(x0).mul_(1.0 / dx).clamp_(0.0, top)
                i0 = pos.floor()
                dist = pos.sub_(i0)  # in [0, 1); at the top point i0 = top, dist = 0
                idx = i0.long()
            if table2d is None:  # V = f2(x): dV/de_pos = f2'(x), dV/de_neg = -f2'(x)
                torch.take(f2_slope, idx, out=sl[0])
                v = torch.addcmul(f2_val.take(idx), sl[0], dist)
                sl[0].mul_(1.0 / dx)
                torch.neg(sl[0], out=sl[1])
            else:  # V = F2(e_pos, e_neg), bilinear
                gp = e[0] * g2
                gn = e[1] * g2
                ip = gp.floor().clamp_(max=g2 - 1)
                jn = gn.floor().clamp_(max=g2 - 1)
                fp = gp.sub_(ip)
                fn = gn.sub_(jn)
                cell = ip.mul_(g2).add_(jn).long()
                ca, b, c, ee = coef.index_select(0, cell.view(-1)).view(
                    *cell.shape, 4).unbind(-1)
                v = torch.addcmul(ca, b, fp).addcmul_(c, fn).addcmul_(ee, fp * fn)
                torch.addcmul(b, ee, fn, out=sl[0]).mul_(g2)
                torch.addcmul(c, ee, fp, out=sl[1]).mul_(g2)
            if k_v is not None:  # + k_v f2_sigma(x): d/de_pos = k_v sigma', d/de_neg = -that
                s_slope = sg_slope.take(idx)
                v.addcmul_(k_v, torch.addcmul(sg_val.take(idx), s_slope, dist))
                kd = k_v * s_slope * (1.0 / dx)
                sl[0].add_(kd)
                sl[1].sub_(kd)
            m = torch.sub(v, theta, out=margin[t])
            fired = m > 0  # the comparator: strict, as the chip's
            torch.gt(m, 0.0, out=spikes[t])
            d = e.masked_fill_(fired, 0.0)  # hard reset of both walls
        ctx.save_for_backward(spikes, unsat, slope, margin, deriv)
        ctx.width = width
        ctx.theta_shape = theta.shape
        return spikes

    @staticmethod
    def backward(ctx, g_spikes):
        spikes, unsat, slope, margin, deriv = ctx.saved_tensors
        T = spikes.shape[0]
        # dL/dv = dL/ds * surrogate'((v - theta) / width) / width, all windows at once
        g_v = _surrogate_grad(margin, ctx.width).mul_(g_spikes)
        keep = 1.0 - spikes
        g_inc = torch.empty_like(slope)
        g_d = torch.zeros_like(slope[0])
        for t in range(T - 1, -1, -1):
            g_e = torch.addcmul(g_d * keep[t], slope[t], g_v[t])  # the reset is detached
            g_d = torch.mul(g_e, unsat[t], out=g_inc[t])
        if deriv is not None:
            g_inc.mul_(deriv)
        g_th = None
        if ctx.needs_input_grad[1]:  # theta was broadcast to the neurons: sum back
            g_th = (-g_v.sum(0)).sum_to_size(ctx.theta_shape)
        return g_inc, g_th, None, None, None, None, None, None, None, None, None


def membrane(inc: torch.Tensor, theta: torch.Tensor, tables: torch.Tensor, x0: float,
             dx: float, width: float, k_v: torch.Tensor | None = None,
             kz: torch.Tensor | None = None, sigma_fit: tuple[float, float] = (0.0, 0.0),
             table2d: torch.Tensor | None = None) -> torch.Tensor:
    """Spikes (T, N...) of the membrane dynamics (module docstring).

    ``inc`` (T, 2, N...): DW increments of the positive [0] and negative [1] accumulators;
    ``theta``: thresholds broadcastable to N...; ``tables`` (2, G): f2 (the lower bound)
    and f2_sigma on the grid ``x0 + i dx``; ``width``: surrogate width (normalized V);
    ``k_v`` (N...): the V noise factor of each neuron (None: no noise); ``kz`` (2, N...):
    the f1 noise factor of each accumulator, the increment becoming
    ``max(x + kz f1_sigma(x), 0)`` with ``f1_sigma(x) = x max(s1 + s2 x, 0)``,
    ``sigma_fit = (s1, s2)`` (None: no noise); ``table2d`` (G2, G2): the exact V on the
    uniform grid of [0, 1]^2 (rows e_pos, columns e_neg) instead of f2's lower bound."""
    if inc.dim() < 3 or inc.shape[1] != 2:
        raise ValueError(f"inc: expected (T, 2, ...), got {tuple(inc.shape)}")
    if table2d is not None and (table2d.dim() != 2 or table2d.shape[0] != table2d.shape[1]
                                or table2d.shape[0] < 2):
        raise ValueError(f"table2d: expected a square (G2, G2) grid, got {tuple(table2d.shape)}")
    s1, s2 = (float(v) for v in sigma_fit)
    return _Membrane.apply(inc, theta, k_v, tables, float(x0), float(dx), float(width), kz,
                           s1, s2, table2d)


def bilinear(t2: torch.Tensor, e_pos: torch.Tensor, e_neg: torch.Tensor) -> torch.Tensor:
    """Bilinear interpolation of a (G2, G2) grid on [0, 1]^2 at (e_pos, e_neg), autograd."""
    g2 = t2.shape[0] - 1
    gp, gn = e_pos * g2, e_neg * g2
    ip = gp.detach().floor().clamp(max=g2 - 1).long()
    jn = gn.detach().floor().clamp(max=g2 - 1).long()
    fp, fn = gp - ip.to(gp.dtype), gn - jn.to(gn.dtype)
    return (t2[ip, jn] * (1 - fp) * (1 - fn) + t2[ip + 1, jn] * fp * (1 - fn)
            + t2[ip, jn + 1] * (1 - fp) * fn + t2[ip + 1, jn + 1] * fp * fn)


def membrane_reference(inc, theta, tables, x0, dx, width, k_v=None, kz=None,
                       sigma_fit=(0.0, 0.0), table2d=None):
    """:func:`membrane` in plain autograd ops (the reference of the tests)."""
    from golden.curves import interp_uniform

    val, sig = tables[0], tables[1]
    if kz is not None:
        s1, s2 = sigma_fit
        inc = (inc + inc * torch.clamp(s1 + s2 * inc, min=0.0) * kz).clamp(min=0.0)
    d = torch.zeros_like(inc[0])
    out = []
    for t in range(inc.shape[0]):
        a = d + inc[t]
        e = torch.clamp(a, max=1.0)
        x = e[0] - e[1]
        v = interp_uniform(x, x0, dx, val) if table2d is None else bilinear(table2d, e[0], e[1])
        if k_v is not None:
            v = v + k_v * interp_uniform(x, x0, dx, sig)
        s = _SurrogateStep.apply((v - theta) / width)
        out.append(s)
        d = e * (1.0 - s.detach())
    return torch.stack(out)


class _SurrogateStep(torch.autograd.Function):
    @staticmethod
    def forward(ctx, u):
        ctx.save_for_backward(u)
        return (u > 0).to(u.dtype)

    @staticmethod
    def backward(ctx, g):
        (u,) = ctx.saved_tensors
        return g * _surrogate_grad(u)
