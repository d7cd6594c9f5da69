"""golden.curves and golden.membrane: the torch port of f1/f2 against the numpy original
(within tolerance, not bit for bit: two numerical paths), and the hand-written backward
pass of the membrane against plain autograd."""

import platform
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from analog_models.fitted import load_f1f2
from golden.curves import TorchCurves, interp_uniform
from golden.membrane import membrane, membrane_reference

F = load_f1f2()


@pytest.mark.parametrize("config", ["cmos", "mdwmtj", "cmos+x"])
@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-12), (torch.float32, 2e-6)])
def test_torch_curves_equal_numpy(config, dtype, tol):
    c = TorchCurves(config, F, dtype=dtype)
    w = np.linspace(0, 1, 301)
    d = np.linspace(-1, 1, 401)
    x = np.linspace(0, 1, 101)
    t = lambda a: torch.as_tensor(a, dtype=dtype)  # noqa: E731
    np.testing.assert_allclose(c.g(t(w)).numpy(), F.g(w, config), rtol=0, atol=tol)
    np.testing.assert_allclose(c.f1_sigma(t(x)).numpy(), F.f1_sigma(x, config), rtol=0, atol=tol)
    np.testing.assert_allclose(c.f2(t(d)).numpy(), F.f2(d), rtol=0, atol=tol)
    np.testing.assert_allclose(c.f2_sigma(t(d)).numpy(), F.f2_sigma(d), rtol=0, atol=tol)
    np.testing.assert_allclose(c.threshold_levels.numpy(), F.threshold_norm(np.arange(64)),
                               rtol=0, atol=tol)
    assert c.n_fs == pytest.approx(F.n_fs(config), rel=1e-12)


@settings(max_examples=40)
@given(st.lists(st.floats(-1.5, 1.5, allow_nan=False), min_size=1, max_size=30))
def test_interp_is_np_interp_clamped(xs):  # noqa: D103
    grid = np.linspace(-1, 1, 41)
    table = np.sin(3 * grid) + grid ** 2
    got = interp_uniform(torch.tensor(xs, dtype=torch.float64), -1.0, 0.05,
                         torch.tensor(table)).numpy()
    np.testing.assert_allclose(got, np.interp(xs, grid, table), rtol=0, atol=1e-12)


def test_f1_noise_of_the_membrane_equals_the_curves_helper():
    """The f1 noise applied inside the membrane is ``TorchCurves.add_f1_noise``: with the
    V noise off and a threshold no one reaches, the only difference would be the walls."""
    c = TorchCurves("cmos+x", F, dtype=torch.float64)
    inc = torch.rand(4, 2, 3, 5, 5, dtype=torch.float64) * 0.2
    kz = torch.randn(2, 3, 5, 5, dtype=torch.float64)
    th = torch.tensor(0.2, dtype=torch.float64)
    sf = tuple(c.sigma_fit.tolist())
    a = membrane(inc, th, c.f2_tables, c.d0, c.dd, 0.15, None, kz, sf)
    b = membrane(c.add_f1_noise(inc, kz), th, c.f2_tables, c.d0, c.dd, 0.15)
    assert torch.equal(a, b)


def test_f1_noise_helper_equals_its_definition():
    c = TorchCurves("cmos+x", F, dtype=torch.float64)
    inc = torch.rand(4, 2, 3, 5, 5, dtype=torch.float64)
    kz = torch.randn(2, 3, 5, 5, dtype=torch.float64)
    want = (inc + c.f1_sigma(inc) * kz).clamp(min=0.0)
    torch.testing.assert_close(c.add_f1_noise(inc, kz), want, rtol=0, atol=1e-14)


def test_threshold_code_is_the_nearest_level():
    c = TorchCurves()
    lv = c.threshold_levels
    codes = c.threshold_code(lv + 1e-4)
    assert torch.equal(codes, torch.arange(64))
    assert int(c.threshold_code(torch.tensor(5.0))) == 0  # above the top: code 0
    assert int(c.threshold_code(torch.tensor(-5.0))) == 63


@settings(max_examples=30)
@given(seed=st.integers(0, 2**31), T=st.integers(1, 7), noise=st.booleans(),
       scale=st.floats(0.05, 0.8), exact=st.booleans())
def test_membrane_backward_equals_autograd_reference(seed, T, noise, scale, exact):
    g = torch.Generator().manual_seed(seed)
    c = TorchCurves(dtype=torch.float64)
    inc = (torch.rand(T, 2, 2, 3, 4, 4, generator=g, dtype=torch.float64) * scale)
    inc.requires_grad_()
    th = (torch.rand(3, 1, 1, generator=g, dtype=torch.float64) * 0.6 - 0.1).requires_grad_()
    k = torch.randn(2, 3, 4, 4, generator=g, dtype=torch.float64) * 0.5 if noise else None
    kz = torch.randn(2, 2, 3, 4, 4, generator=g, dtype=torch.float64) * 3 if noise else None
    sf = tuple(c.sigma_fit.tolist())
    w = torch.randn(T, 2, 3, 4, 4, generator=g, dtype=torch.float64)
    t2 = c.f2_exact if exact else None
    a = membrane(inc, th, c.f2_tables, c.d0, c.dd, 0.15, k, kz, sf, t2)
    b = membrane_reference(inc, th, c.f2_tables, c.d0, c.dd, 0.15, k, kz, sf, t2)
    assert torch.equal(a, b), f"seed {seed}: spikes differ"
    ga = torch.autograd.grad((a * w).sum(), (inc, th))
    gb = torch.autograd.grad((b * w).sum(), (inc, th))
    for x, y in zip(ga, gb, strict=True):
        torch.testing.assert_close(x, y, rtol=1e-9, atol=1e-10)


@settings(max_examples=10)
@given(seed=st.integers(0, 2**31), exact=st.booleans())
def test_membrane_on_a_transposed_view_equals_contiguous(seed, exact):
    """P2MConv hands the membrane a transposed view of its convolution output, (T, B, 2, ...)
    in memory; spikes and gradients equal those of the contiguous (T, 2, B, ...) tensor."""
    g = torch.Generator().manual_seed(seed)
    c = TorchCurves(dtype=torch.float64)
    base = (torch.rand(5, 3, 2, 4, 3, 3, generator=g, dtype=torch.float64) * 0.4)
    th = torch.rand(4, 1, 1, generator=g, dtype=torch.float64) * 0.4
    k = torch.randn(3, 4, 3, 3, generator=g, dtype=torch.float64) * 0.5
    kz = torch.randn(2, 3, 4, 3, 3, generator=g, dtype=torch.float64)
    w = torch.randn(5, 3, 4, 3, 3, generator=g, dtype=torch.float64)
    sf, t2 = tuple(c.sigma_fit.tolist()), (c.f2_exact if exact else None)
    out = []
    for inc in (base.clone().requires_grad_(), base.transpose(1, 2).contiguous()
                .requires_grad_()):
        view = inc.transpose(1, 2) if inc.shape[1] != 2 else inc
        s = membrane(view, th, c.f2_tables, c.d0, c.dd, 0.15, k, kz, sf, t2)
        (gr,) = torch.autograd.grad((s * w).sum(), inc)
        out.append((s, gr if inc.shape[1] != 2 else gr.transpose(1, 2)))
    assert torch.equal(out[0][0], out[1][0]), f"seed {seed}: spikes differ"
    torch.testing.assert_close(out[0][1], out[1][1], rtol=1e-12, atol=1e-14)


def test_keep_heap_is_idempotent():
    from golden.cpu import keep_heap

    first = keep_heap()
    assert keep_heap() is first
    if sys.platform == "linux" and platform.libc_ver()[0] == "glibc":
        assert first, "glibc's mallopt refused the settings"


def test_membrane_dynamics_by_hand():
    """One neuron, threshold 0.3: the walls accumulate over windows (non-volatile), stop at
    the track end, the neuron fires when f2(d_pos - d_neg) > 0.3, a spike resets both."""
    c = TorchCurves(dtype=torch.float64)
    f2 = lambda d: float(c.f2(torch.tensor(d, dtype=torch.float64)))  # noqa: E731
    assert f2(0.2) < 0.3 < f2(0.4) and f2(0.6) > 0.3
    inc_pos = [0.2, 0.2, 0.7, 0.7, 0.0]
    inc_neg = [0.0, 0.0, 0.6, 0.2, 0.0]
    # d: (0.2, 0) no; (0.4, 0) fires, reset; (0.7, 0.6) no; (min(1.4, 1), 0.8): diff 0.2, no
    # (without the track end it would be 0.6 and fire); unchanged, no
    inc = torch.tensor([inc_pos, inc_neg], dtype=torch.float64).T.reshape(5, 2, 1)
    s = membrane(inc, torch.tensor([0.3], dtype=torch.float64), c.f2_tables, c.d0, c.dd,
                 0.15).view(-1).tolist()
    assert s == [0, 1, 0, 0, 0]


def test_exact_f2_is_the_nominal_divider():
    """The 2-D table is the nominal accumulator divider: exact at its grid points, within
    the bilinear error between them; the paper's lower bound lies below it."""
    from analog_models.presets import get_preset
    from analog_models.readout import divider_voltage
    from golden.membrane import bilinear

    c = TorchCurves(dtype=torch.float64)
    pr = get_preset("paper2024")
    v_mid, v_max = F.doc["f2"]["v_mid"], F.doc["f2"]["v_max"]
    rng = np.random.default_rng(0)
    dp, dn = rng.random(200), rng.random(200)
    want = (divider_voltage(pr.accumulator, dn, pr.accumulator, dp, pr.circuit.v_read)
            - v_mid) / (v_max - v_mid)
    got = bilinear(c.f2_exact, torch.tensor(dp), torch.tensor(dn)).numpy()
    assert np.abs(got - want).max() < 5e-3  # bilinear on a 1/40 grid
    g = np.linspace(0, 1, 41)
    on_grid = bilinear(c.f2_exact, torch.tensor(g[[0, 7, 40]]), torch.tensor(g[[3, 40, 0]]))
    want_grid = (divider_voltage(pr.accumulator, g[[3, 40, 0]], pr.accumulator, g[[0, 7, 40]],
                                 pr.circuit.v_read) - v_mid) / (v_max - v_mid)
    np.testing.assert_allclose(on_grid.numpy(), want_grid, rtol=0, atol=1e-12)
    assert float(c.f2_exact[0, 0]) == pytest.approx(0.0, abs=1e-9)  # V_mid
    assert float(c.f2_exact[40, 0]) == pytest.approx(1.0, abs=1e-9)  # V_max
    # the paper's bound (tabulated over a coarser grid of combinations) lies below, on average
    # by the non-linearity
    lower = F.f2(dp - dn)
    assert np.mean(want - lower) > 0.05 and np.mean(lower <= want + 0.02) == 1.0
