"""MDWMTJ device model, presets, weight cells: physics checks, properties, bad input."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analog_models.mdwmtj import (
    TRACK_TICKS,
    MDWMTJArray,
    effective_resistance,
    mtj_resistance,
    tmr,
)
from analog_models.presets import PAPER_2024, PRESETS, get_preset
from analog_models.weight_cells import WeightCellModel

ACC = PAPER_2024.accumulator
FAST = settings(max_examples=40, deadline=None)


def test_paper_preset_numbers():
    assert ACC.r_p == 10e3 and ACC.r_ap == pytest.approx(30e3)  # TMR 200 %
    assert ACC.tmr0 == 2.0
    assert PAPER_2024.circuit.jitter_sigma == 0.10
    assert ACC.r_var_3sigma == 0.20
    assert PAPER_2024.transistor.n_sigma == 3.0
    assert PAPER_2024.weight_device.i_th > ACC.i_th  # I_TH2 > I_TH1
    for p in PRESETS.values():
        p.validate()


def test_unknown_preset_is_named():
    with pytest.raises(ValueError, match="device_preset.*nope"):
        get_preset("nope")


def test_resistance_endpoints_and_rolloff():
    assert mtj_resistance(ACC, 0.0) == pytest.approx(ACC.r_p, rel=1e-12)
    assert mtj_resistance(ACC, 1.0) == pytest.approx(ACC.r_ap, rel=1e-12)
    d = np.linspace(0, 1, 101)
    r = mtj_resistance(ACC, d)
    assert np.all(np.diff(r) > 0)  # monotone in q
    # non-linear (1/G with G linear in the wall-profile mean): above the straight line? no,
    # below it: the parallel conductance model bends R(q) upward only near AP
    assert not np.allclose(r, ACC.r_p + d * (ACC.r_ap - ACC.r_p), rtol=1e-2)
    assert tmr(ACC, 0.0) == 2.0 and tmr(ACC, ACC.v_half) == pytest.approx(1.0)
    assert mtj_resistance(ACC, 1.0, 0.4) < mtj_resistance(ACC, 1.0, 0.0)


def test_velocity_threshold_and_polynomial():
    assert ACC.velocity(ACC.i_th) == 0.0
    assert ACC.velocity(0.5 * ACC.i_th) == 0.0
    di = 20e-6
    assert ACC.velocity(ACC.i_th + di) == pytest.approx(ACC.c1 * di + ACC.c2 * di * di)


@FAST
@given(i1=st.floats(0, 200e-6), i2=st.floats(0, 200e-6), w=st.floats(0, 5e-9),
       q0=st.floats(0, 1))
def test_motion_monotone_in_current(i1, i2, w, q0):
    lo, hi = sorted((i1, i2))
    a, b = MDWMTJArray(ACC, 1), MDWMTJArray(ACC, 1)
    a.set_positions(q0 * ACC.l_fl)
    b.set_positions(q0 * ACC.l_fl)
    a.apply_pulses(lo, w)
    b.apply_pulses(hi, w)
    assert a.ticks[0] <= b.ticks[0]


@FAST
@given(w1=st.floats(0, 5e-9), w2=st.floats(0, 5e-9), i=st.floats(0, 200e-6),
       direction=st.sampled_from([1, -1]), q0=st.floats(0, 1))
def test_motion_monotone_in_width_and_on_track(w1, w2, i, direction, q0):
    lo, hi = sorted((w1, w2))
    a, b = MDWMTJArray(ACC, 1), MDWMTJArray(ACC, 1)
    a.set_positions(q0 * ACC.l_fl)
    b.set_positions(q0 * ACC.l_fl)
    a.apply_pulses(i, lo, direction)
    b.apply_pulses(i, hi, direction)
    if direction == 1:
        assert a.ticks[0] <= b.ticks[0]
    else:
        assert a.ticks[0] >= b.ticks[0]
    for dev in (a, b):
        assert 0 <= dev.ticks[0] <= TRACK_TICKS
        assert 0.0 <= dev.q[0] <= ACC.l_fl


@FAST
@given(d=st.lists(st.floats(0, 1), min_size=1, max_size=20), v=st.floats(-1.0, 1.0),
       rs=st.floats(0.8, 1.2))
def test_resistance_within_physical_bounds(d, v, rs):
    d = np.array(d)
    r = mtj_resistance(ACC, d, v, rs)
    lo = ACC.r_p * rs
    hi = ACC.r_p * rs * (1 + tmr(ACC, v))
    assert np.all(r >= lo * (1 - 1e-12)) and np.all(r <= hi * (1 + 1e-12))
    re = effective_resistance(ACC, d, v, rs)
    assert np.all(re >= lo) and np.all(re <= ACC.r_ap * rs + ACC.r_hm)


@FAST
@given(q=st.lists(st.floats(0, 1), min_size=1, max_size=16),
       seed=st.integers(0, 2**32 - 1))
def test_reset_always_reaches_zero(q, seed):
    dev = MDWMTJArray(ACC, len(q))
    dev.set_positions(np.array(q) * ACC.l_fl)
    rng = np.random.default_rng(seed)
    mask = rng.random(len(q)) < 0.5
    before = dev.ticks.copy()
    dev.reset(mask)
    assert np.all(dev.ticks[mask] == 0)
    assert np.array_equal(dev.ticks[~mask], before[~mask])
    dev.reset()
    assert np.all(dev.ticks == 0)


@pytest.mark.parametrize("kwargs,match", [
    ({"current": np.nan, "width": 1e-9}, "current"),
    ({"current": -1e-6, "width": 1e-9}, "current"),
    ({"current": 1e-5, "width": np.inf}, "width"),
    ({"current": 1e-5, "width": -1e-9}, "width"),
    ({"current": np.ones(3) * 1e-5, "width": 1e-9}, "current: shape"),
])
def test_bad_pulses_name_the_argument(kwargs, match):
    dev = MDWMTJArray(ACC, (2,))
    with pytest.raises(ValueError, match=match):
        dev.apply_pulses(**kwargs)


def test_bad_positions_and_value_in_message():
    dev = MDWMTJArray(ACC, 3)
    with pytest.raises(ValueError, match=r"q: must lie in .*q\[1\] = 2e-06"):
        dev.set_positions([0.0, 2e-6, 0.0])
    with pytest.raises(ValueError, match="q: must be >= 0"):
        dev.set_positions(-1e-9)
    with pytest.raises(ValueError, match="direction"):
        dev.apply_pulses(1e-5, 1e-9, direction=0)
    with pytest.raises(ValueError, match="reset_width"):
        MDWMTJArray(ACC, 1, reset_width=1e-12)


def test_below_threshold_is_non_volatile():
    dev = MDWMTJArray(ACC, 4)
    dev.set_positions(0.3 * ACC.l_fl)
    before = dev.ticks.copy()
    for _ in range(100):  # leakage currents below I_TH1 never move the wall
        dev.apply_pulses(0.9 * ACC.i_th, 1e-3)
        dev.apply_pulses(0.9 * ACC.i_th, 1e-3, -1)
    assert np.array_equal(dev.ticks, before)


@pytest.mark.parametrize("config", ["cmos", "mdwmtj", "cmos+x"])
def test_weight_cells_mapping_and_ith2(config):
    m = WeightCellModel(PAPER_2024, config)
    i_max = m.check_weight_devices_static()
    assert i_max < PAPER_2024.weight_device.i_th
    codes = np.arange(16)
    if config == "cmos+x":
        w = m.normalized_weight(np.full(16, 2), codes)
    else:
        w = m.normalized_weight(codes)
    w = w if config != "mdwmtj" else w[::-1]  # more set pulses: smaller weight
    assert np.all(np.diff(w) > 0) and w.max() <= 1.0 + 1e-12
    wc, tc = m.codes_for_weights(w, mtj_code=2 if config == "cmos+x" else None)
    got = codes if config != "mdwmtj" else codes[::-1]
    np.testing.assert_array_equal(tc if config == "cmos+x" else wc, got)
    with pytest.raises(ValueError, match="w: normalized"):
        m.codes_for_weights(np.array([1.5]))


def test_ith2_violation_is_reported():
    weak = dataclasses.replace(PAPER_2024.weight_device, i_th=5e-6)
    pr = dataclasses.replace(PAPER_2024, weight_device=weak)
    with pytest.raises(ValueError, match="I_TH2"):
        WeightCellModel(pr, "mdwmtj").check_weight_devices_static()


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**63 - 1), start=st.integers(0, 2**40), n=st.integers(1, 300),
       cut=st.integers(0, 300))
def test_event_jitter_is_a_pure_function_of_seed_and_index(seed, start, n, cut):
    from analog_models.variation import jitter_ticks, stream_key

    key = stream_key(seed, "event_jitter")
    idx = np.arange(start, start + n)
    whole = jitter_ticks(key, idx, 0.1)
    cut = min(cut, n)
    parts = np.concatenate([jitter_ticks(key, idx[:cut], 0.1), jitter_ticks(key, idx[cut:], 0.1)])
    np.testing.assert_array_equal(whole, parts)  # batching does not matter
    np.testing.assert_array_equal(whole, jitter_ticks(stream_key(seed, "event_jitter"), idx, 0.1))
    assert np.all(whole >= 0)
    z = (whole / 2**16 - 1) / 0.1
    assert np.all(np.abs(z) <= 3.0 + 1e-3)  # truncated at 3 sigma


def test_jitter_statistics_and_static_streams():
    from analog_models.variation import jitter_ticks, resistance_factor, stream_key

    j = jitter_ticks(stream_key(0, "event_jitter"), np.arange(200_000), 0.1) / 2**16
    assert abs(j.mean() - 1) < 2e-3 and abs(j.std() - 0.1) < 3e-3
    r1 = resistance_factor(5, "x", (1000,), 0.2)
    np.testing.assert_array_equal(r1, resistance_factor(5, "x", (1000,), 0.2))
    assert not np.array_equal(r1, resistance_factor(6, "x", (1000,), 0.2))
    assert np.all(np.abs(r1 - 1) <= 0.2) and abs(r1.std() - 0.2 / 3) < 0.01
    with pytest.raises(ValueError, match="seed"):
        stream_key(-1, "x")


@FAST
@given(t=st.lists(st.integers(0, int(TRACK_TICKS)), min_size=1, max_size=40),
       dw=st.sampled_from([2e-9, 10e-9, 30e-9, 100e-9, 240e-9]))
def test_wall_profile_from_ticks_equals_the_float_path(t, dw):
    """The latch's fast wall-profile mean (from ticks, ends' terms only near the ends)
    equals the reference formula to rounding, for narrow and wide walls."""
    from analog_models.mdwmtj import wall_profile_mean, wall_profile_mean_ticks

    p = dataclasses.replace(ACC, dw_width=dw)
    t = np.array(t, dtype=np.int64)
    ref = wall_profile_mean(p, t / float(TRACK_TICKS))
    np.testing.assert_allclose(wall_profile_mean_ticks(p, t), ref, rtol=0, atol=2e-15)
    np.testing.assert_allclose(wall_profile_mean_ticks(p, t[0]), ref[0], rtol=0, atol=2e-15)
    assert wall_profile_mean_ticks(p, np.int64(0)) == pytest.approx(1.0, abs=1e-15)
    assert wall_profile_mean_ticks(p, TRACK_TICKS) == pytest.approx(-1.0, abs=1e-15)
