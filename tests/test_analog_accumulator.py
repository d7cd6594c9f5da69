"""The accumulator array: batch == per-event reference bit for bit, reproducibility,
programming, readout, bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analog_models.accumulator import AccumulatorArray
from analog_models.chip_config import ChipConfig, Geometry
from analog_models.mdwmtj import TRACK_TICKS
from analog_models.readout import divider_voltage


def make_config(seed=0, weight_config="cmos+x", geometry=None, variation="paper", vseed=7):
    g = geometry or Geometry(sensor_height=9, sensor_width=11, channels=3)
    rng = np.random.default_rng(seed)
    return ChipConfig(
        geometry=g, weight_config=weight_config,
        weight_sign=rng.integers(-1, 2, g.weight_shape),
        weight_codes=rng.integers(0, 16, g.weight_shape),
        transistor_codes=rng.integers(0, 16, g.weight_shape) if weight_config == "cmos+x" else None,
        threshold_codes=rng.integers(0, 64, (g.channels,)),
        variation=variation, variation_seed=vseed,
    )


def random_events(g, n, seed):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, g.sensor_width, n), rng.integers(0, g.sensor_height, n),
            rng.integers(0, g.polarities, n))


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(0, 400),
       cfg_kind=st.sampled_from(["cmos", "mdwmtj", "cmos+x"]),
       split=st.integers(1, 5), variation=st.sampled_from(["paper", "none"]),
       padding=st.integers(0, 2))
def test_batch_equals_reference_exactly(seed, n, cfg_kind, split, variation, padding):
    geo = Geometry(sensor_height=9, sensor_width=11, channels=3, padding=padding)
    cfg = make_config(seed, cfg_kind, geometry=geo, variation=variation, vseed=seed % 1000)
    a, b = AccumulatorArray(cfg), AccumulatorArray(cfg)
    x, y, p = random_events(cfg.geometry, n, seed)
    for chunk in np.array_split(np.arange(n), split):  # any batching
        a.apply_events(x[chunk], y[chunk], p[chunk])
    b.apply_events_reference(x, y, p)
    assert np.array_equal(a.acc_pos.ticks, b.acc_pos.ticks)
    assert np.array_equal(a.acc_neg.ticks, b.acc_neg.ticks)
    assert a.event_count == b.event_count == n
    assert np.array_equal(a.sample(), b.sample())
    np.testing.assert_array_equal(a.v_pre(), b.v_pre())


def test_saturation_equal_in_both_paths():
    g = Geometry(sensor_height=5, sensor_width=5, channels=2)
    cfg = make_config(1, "cmos", geometry=g)
    cfg.weight_sign[...] = 1
    cfg.weight_codes[...] = 15
    a, b = AccumulatorArray(cfg), AccumulatorArray(cfg)
    x, y, p = random_events(g, 3000, 3)
    a.apply_events(x, y, p)
    b.apply_events_reference(x, y, p)
    assert np.array_equal(a.acc_pos.ticks, b.acc_pos.ticks)
    assert np.all(a.acc_pos.ticks == TRACK_TICKS)  # every DW at the track end
    assert np.all(a.d_pos == 1.0) and np.all(a.d_neg == 0.0)


def test_default_geometry_exact_and_event_reach():
    cfg = make_config(5, geometry=Geometry())
    a, b = AccumulatorArray(cfg), AccumulatorArray(cfg)
    x, y, p = random_events(cfg.geometry, 300, 9)
    a.apply_events(x, y, p)  # the dense (convolution) path
    b.apply_events_reference(x, y, p)
    assert np.array_equal(a.acc_pos.ticks, b.acc_pos.ticks)
    assert np.array_equal(a.acc_neg.ticks, b.acc_neg.ticks)
    s = AccumulatorArray(cfg)
    for k in range(0, 300, 7):  # the sparse (touched neurons only) path
        s.apply_events(x[k:k + 7], y[k:k + 7], p[k:k + 7])
    assert np.array_equal(s.acc_pos.ticks, b.acc_pos.ticks)
    assert np.array_equal(s.acc_neg.ticks, b.acc_neg.ticks)
    # one event at (x=4, y=4) touches neurons oy, ox in {1, 2} only (3x3 stride 2)
    c = AccumulatorArray(cfg)
    c.apply_events([4], [4], [0])
    moved = (c.acc_pos.ticks > 0) | (c.acc_neg.ticks > 0)
    ys, xs = np.nonzero(moved.any(0))
    assert set(ys) <= {1, 2} and set(xs) <= {1, 2}
    assert moved.shape == (32, 16, 16)


def test_same_seed_same_chip_different_seed_differs():
    cfg = make_config(2)
    a, b = AccumulatorArray(cfg), AccumulatorArray(cfg)
    np.testing.assert_array_equal(a.increments, b.increments)
    np.testing.assert_array_equal(a.v_th(), b.v_th())
    cfg2 = make_config(2, vseed=8)
    c = AccumulatorArray(cfg2)
    assert not np.array_equal(a.increments, c.increments)


def test_config_file_round_trip_gives_same_chip(tmp_path):
    cfg = make_config(3)
    path = cfg.save(tmp_path / "chip.json")
    a, b = AccumulatorArray(cfg), AccumulatorArray(ChipConfig.load(path))
    x, y, p = random_events(cfg.geometry, 200, 1)
    a.apply_events(x, y, p)
    b.apply_events(x, y, p)
    assert np.array_equal(a.acc_pos.ticks, b.acc_pos.ticks)
    assert np.array_equal(a.sample(), b.sample())


def test_pulse_programming_equals_programming_from_file():
    cfg = make_config(4, "mdwmtj")
    built = AccumulatorArray(cfg)
    raw = AccumulatorArray(cfg, programmed=False)
    g = cfg.geometry
    nw = g.channels * g.polarities * g.kernel * g.kernel
    codes = cfg.weight_codes.reshape(-1)
    signs = cfg.weight_sign.reshape(-1)
    for idx in range(nw):  # the RTL's sequence: reset, then `code` set pulses
        if signs[idx] == 0:
            continue  # no device (tb/program_chip.py skips these too)
        raw.program_pulse(0, idx, reset=True)
        for _ in range(int(codes[idx])):
            raw.program_pulse(0, idx, reset=False)
    top = 2**cfg.threshold_bits - 1
    for ch in range(g.channels):
        for target, code in ((1, cfg.threshold_codes[ch]), (2, top - cfg.threshold_codes[ch])):
            raw.program_pulse(target, ch, reset=True)
            for _ in range(int(code)):
                raw.program_pulse(target, ch, reset=False)
    np.testing.assert_array_equal(raw.weight_dev.ticks, built.weight_dev.ticks)
    np.testing.assert_array_equal(raw.th_bot.ticks, built.th_bot.ticks)
    np.testing.assert_array_equal(raw.increments, built.increments)
    np.testing.assert_array_equal(raw.v_th(), built.v_th())


def test_reprogramming_changes_weights_and_threshold():
    cfg = make_config(6, "cmos+x", variation="none")
    chip = AccumulatorArray(cfg)
    before = chip.increments.copy()
    cell = (0, 0, 1, 1)  # channel 0, polarity 0, ky 1, kx 1
    idx = ((cell[0] * 2 + cell[1]) * 3 + cell[2]) * 3 + cell[3]
    chip.program_pulse(0, idx, reset=True)  # DW to q = 0: R_P, the largest current
    after = chip.increments
    assert np.all(after[0, :, :, 0, 1, 1] >= before[0, :, :, 0, 1, 1])
    mask = np.ones_like(before, bool)
    mask[0, :, :, 0, 1, 1] = False
    np.testing.assert_array_equal(after[mask], before[mask])
    vth = chip.v_th().copy()
    chip.program_pulse(2, 1, reset=True)  # bottom device of channel 1 to R_P: V_th drops
    assert np.all(chip.v_th()[1] <= vth[1]) and np.array_equal(chip.v_th()[0], vth[0])


def test_readout_and_reset():
    cfg = make_config(7)
    chip = AccumulatorArray(cfg)
    v0 = chip.v_pre()
    assert v0.shape == chip.neuron_shape
    vr = chip.preset.circuit.v_read
    assert np.all((v0 > 0) & (v0 < vr))
    x, y, p = random_events(cfg.geometry, 300, 2)
    chip.apply_events(x, y, p)
    flags = chip.sample()
    assert flags.dtype == bool and flags.shape == chip.neuron_shape
    np.testing.assert_array_equal(flags, chip.v_pre() > chip.v_th() + chip.comp_offset)
    # nominal devices: V_pre rises with d_pos - d_neg (positive accumulator at the bottom)
    nominal = AccumulatorArray(make_config(7, variation="none"))
    nominal.apply_events(x, y, p)
    diff = nominal.d_pos - nominal.d_neg
    assert np.corrcoef(diff.ravel(), nominal.v_pre().ravel())[0, 1] > 0.95
    mask = np.zeros(chip.neuron_shape, bool)
    mask[1, 0, :] = True
    keep_pos = chip.acc_pos.ticks.copy()
    chip.reset(mask)
    assert np.all(chip.d_pos[mask] == 0) and np.all(chip.d_neg[mask] == 0)
    assert np.array_equal(chip.acc_pos.ticks[~mask], keep_pos[~mask])  # non-volatile
    chip.reset_channel(2, np.ones((chip.OH, chip.OW), bool))
    assert np.all(chip.d_pos[2] == 0)
    chip.reset_all()
    assert np.all(chip.acc_pos.ticks == 0) and np.all(chip.acc_neg.ticks == 0)


def test_state_snapshot_restores_exactly():
    cfg = make_config(8)
    chip = AccumulatorArray(cfg)
    x, y, p = random_events(cfg.geometry, 100, 4)
    chip.apply_events(x, y, p)
    st_ = chip.state()
    chip.apply_events(x, y, p)
    after = chip.acc_pos.ticks.copy()
    chip.load_state(st_)
    chip.apply_events(x, y, p)
    assert np.array_equal(chip.acc_pos.ticks, after)


@pytest.mark.parametrize("args,match", [
    (([11], [0], [0]), r"x: must lie in \[0, 10\].*x\[0\] = 11"),
    (([0], [-1], [0]), r"y: must lie in \[0, 8\]"),
    (([0], [0], [2]), r"p: must lie in \[0, 1\]"),
    (([0, 1], [0], [0]), "x, y, p: must be 1-D of one length"),
    (([0.5], [0], [0]), "x: must hold integers"),
])
def test_bad_events_name_the_argument(args, match):
    chip = AccumulatorArray(make_config(0))
    with pytest.raises(ValueError, match=match):
        chip.apply_events(*args)
    with pytest.raises(ValueError, match=match):
        chip.apply_events_reference(*args)


def test_bad_programming_and_reset_arguments():
    chip = AccumulatorArray(make_config(0))
    with pytest.raises(ValueError, match="target"):
        chip.program_pulse(3, 0, False)
    with pytest.raises(ValueError, match="index"):
        chip.program_pulse(0, 10_000, False)
    with pytest.raises(ValueError, match="index"):
        chip.program_pulse(1, 3, False)
    with pytest.raises(ValueError, match="mask"):
        chip.reset(np.zeros((2, 2), bool))
    with pytest.raises(ValueError, match="mask: must be boolean"):
        chip.reset(np.zeros(chip.neuron_shape, int))
    with pytest.raises(ValueError, match="channel"):
        chip.reset_channel(5, np.zeros((chip.OH, chip.OW), bool))
    with pytest.raises(ValueError, match="config"):
        AccumulatorArray({"not": "a config"})


# ---------------------------------------------------------------- jitter keyed to the event
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(1, 300),
       cfg_kind=st.sampled_from(["cmos", "mdwmtj", "cmos+x"]), split=st.integers(1, 6),
       data=st.data())
def test_keyed_jitter_any_split_and_order_is_bit_identical(seed, n, cfg_kind, split, data):
    """Same events with the same keys: any permutation and any batching give the same
    ticks, and the batch path equals the per-event reference, bit for bit."""
    cfg = make_config(seed, cfg_kind, vseed=seed % 997)
    x, y, p = random_events(cfg.geometry, n, seed)
    rng = np.random.default_rng(seed + 1)
    index = rng.permutation(n).astype(np.int64) + data.draw(st.integers(0, 2**40))
    ref = AccumulatorArray(cfg)
    ref.apply_events_reference(x, y, p, index=index)
    order = rng.permutation(n)
    cuts = np.sort(rng.integers(0, n + 1, split - 1))
    chip = AccumulatorArray(cfg)
    for part in np.split(order, cuts):
        chip.apply_events(x[part], y[part], p[part], index=index[part])
    assert np.array_equal(chip.acc_pos.ticks, ref.acc_pos.ticks)
    assert np.array_equal(chip.acc_neg.ticks, ref.acc_neg.ticks)
    assert chip.event_count == ref.event_count == n
    one = AccumulatorArray(cfg)  # the whole batch at once, other order, one call
    one.apply_events(x[order[::-1]], y[order[::-1]], p[order[::-1]], index=index[order[::-1]])
    assert np.array_equal(one.acc_pos.ticks, ref.acc_pos.ticks)
    assert np.array_equal(one.acc_neg.ticks, ref.acc_neg.ticks)


def test_keyed_jitter_differs_from_order_keyed_and_defaults_to_the_counter():
    cfg = make_config(11, geometry=Geometry())
    x, y, p = random_events(cfg.geometry, 3000, 11)
    a, b = AccumulatorArray(cfg), AccumulatorArray(cfg)
    a.apply_events(x[:1000], y[:1000], p[:1000])  # default keys: 0..999, then 1000..2999
    a.apply_events(x[1000:], y[1000:], p[1000:])
    b.apply_events(x, y, p, index=np.arange(3000))
    assert np.array_equal(a.acc_pos.ticks, b.acc_pos.ticks)
    # the same events in another order with default keys draw other jitter ...
    rev = AccumulatorArray(cfg)
    rev.apply_events(x[::-1], y[::-1], p[::-1])
    assert not np.array_equal(rev.acc_pos.ticks, a.acc_pos.ticks)
    # ... and with their own keys the same jitter
    keyed = AccumulatorArray(cfg)
    keyed.apply_events(x[::-1], y[::-1], p[::-1], index=np.arange(3000)[::-1])
    assert np.array_equal(keyed.acc_pos.ticks, a.acc_pos.ticks)
    np.testing.assert_array_equal(a.event_jitter(5, 3), a.event_jitter_at([5, 6, 7]))


@pytest.mark.parametrize("index,match", [
    ([0, 1], r"index: must be 1-D with one key per event \(3\)"),
    ([0, -1, 2], r"index: must be >= 0, got index\[1\] = -1"),
    ([0.5, 1, 2], "index: must hold integers"),
])
def test_bad_event_index_is_named(index, match):
    chip = AccumulatorArray(make_config(0))
    for f in (chip.apply_events, chip.apply_events_reference):
        with pytest.raises(ValueError, match=match):
            f([0, 1, 2], [0, 1, 2], [0, 0, 1], index=index)


# ---------------------------------------------------------------- the latch
LATCH_RES_V = 1e-9  # the stated voltage resolution of the comparator latch


def _v_pre_exact(chip):
    """V_pre by bisection run to convergence (100 halvings: adjacent doubles)."""
    pr = chip.preset
    n, p = chip.acc_neg, chip.acc_pos
    return divider_voltage(pr.accumulator, n.d, pr.accumulator, p.d, pr.circuit.v_read,
                           n.r_scale, n.hm_scale, p.r_scale, p.hm_scale, iters=100)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_latch_equals_a_high_precision_solve(seed):
    cfg = make_config(seed, "cmos+x", geometry=Geometry(sensor_height=17, sensor_width=17,
                                                        channels=8))
    chip = AccumulatorArray(cfg)
    ref = chip.v_th() + chip.comp_offset
    for batch in range(6):
        x, y, p = random_events(cfg.geometry, 150, 100 * seed + batch)
        chip.apply_events(x, y, p)
        v = _v_pre_exact(chip)
        flags = chip.sample()
        clear = np.abs(v - ref) > LATCH_RES_V
        assert clear.mean() > 0.99
        np.testing.assert_array_equal(flags[clear], (v > ref)[clear])
        # the old path (36-step bisection, then compare) agrees too
        old = chip.v_pre() > ref
        np.testing.assert_array_equal(flags[clear], old[clear])
    chip.reset_all()
    assert np.array_equal(chip.sample(), _v_pre_exact(chip) > ref)


@settings(max_examples=60, deadline=None)
@given(d=st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=30),
       rs=st.tuples(st.floats(0.8, 1.2), st.floats(0.8, 1.2), st.floats(0.8, 1.2),
                    st.floats(0.8, 1.2)),
       preset=st.sampled_from(["paper2024", "high_tmr"]))
def test_latch_resolves_1e_9_volt(d, rs, preset):
    """A reference 1e-9 V below the exact V_pre is exceeded, 1e-9 V above it is not."""
    from analog_models.mdwmtj import wall_profile_mean
    from analog_models.presets import get_preset
    from analog_models.readout import DividerComparator

    pr = get_preset(preset)
    acc, vr = pr.accumulator, pr.circuit.v_read
    d = np.array(d)
    v = divider_voltage(acc, d[:, 0], acc, d[:, 1], vr, *rs, iters=100)
    m_top, m_bot = wall_profile_mean(acc, d[:, 0]), wall_profile_mean(acc, d[:, 1])
    for delta, want in ((-LATCH_RES_V, True), (LATCH_RES_V, False)):
        latch = DividerComparator(acc, acc, vr, v + delta, *rs)
        assert np.all(latch.above(m_top, m_bot) == want)


def test_latch_follows_programming_resets_and_state():
    cfg = make_config(12, "cmos+x")
    chip = AccumulatorArray(cfg)
    x, y, p = random_events(cfg.geometry, 400, 12)
    chip.apply_events(x, y, p)
    before = chip.sample()
    for ch in range(chip.C):  # every threshold to the lowest level: more neurons fire
        chip.program_pulse(1, ch, reset=True)
        for _ in range(63):
            chip.program_pulse(1, ch, reset=False)
        chip.program_pulse(2, ch, reset=True)
    after = chip.sample()
    assert after.sum() > before.sum()
    np.testing.assert_array_equal(after, _v_pre_exact(chip) > chip.v_th() + chip.comp_offset)
    chip.reset_channel(1, np.ones((chip.OH, chip.OW), bool))
    np.testing.assert_array_equal(chip.sample(), _v_pre_exact(chip) > chip.v_th()
                                  + chip.comp_offset)
    assert chip.v_pre((0, 1, 2)).shape == ()
    assert chip.v_pre((0, 1, 2)) == chip.v_pre()[0, 1, 2]


# ---------------------------------------------------------------- complete state
@pytest.mark.parametrize("weight_config", ["cmos", "mdwmtj", "cmos+x"])
def test_state_restores_devices_counters_vth_and_decisions(weight_config):
    cfg = make_config(13, weight_config)
    chip = AccumulatorArray(cfg)
    x, y, p = random_events(cfg.geometry, 300, 13)
    chip.apply_events(x[:100], y[:100], p[:100])
    chip.program_pulse(0, 4, reset=True)
    chip.program_pulse(0, 4, reset=False)
    chip.program_pulse(1, 0, reset=False)
    snap = chip.state()
    want = {"ticks": {k: v.copy() for k, v in snap.items()}, "vth": chip.v_th().copy(),
            "flags": chip.sample().copy(), "inc": chip.increments.copy()}

    def go(c):  # what happens after the snapshot
        c.apply_events(x[100:], y[100:], p[100:])
        c.program_pulse(0, 4, reset=False)
        c.program_pulse(2, 1, reset=False)
        c.reset(np.ones(c.neuron_shape, bool), width_s=30e-9)
        return c.state(), c.v_th().copy(), c.sample().copy()

    first = go(chip)
    changed = ("th_bot", "th_pulses", "pos", "event_count") + (
        ("weight", "w_pulses") if weight_config != "cmos" else ())
    for k in changed:  # the change reached these
        assert not np.array_equal(first[0][k], snap[k]), k
    chip.load_state(snap)
    for k, v in want["ticks"].items():
        np.testing.assert_array_equal(chip.state()[k], v)
    np.testing.assert_array_equal(chip.v_th(), want["vth"])
    np.testing.assert_array_equal(chip.sample(), want["flags"])
    np.testing.assert_array_equal(chip.increments, want["inc"])
    second = go(chip)  # the same future, bit for bit (jitter keys restored too)
    for k in first[0]:
        np.testing.assert_array_equal(second[0][k], first[0][k])
    np.testing.assert_array_equal(second[1], first[1])
    np.testing.assert_array_equal(second[2], first[2])
    # a fresh instance given the snapshot is the same chip
    fresh = AccumulatorArray(cfg, programmed=False)
    fresh.load_state(snap)
    np.testing.assert_array_equal(fresh.v_th(), want["vth"])
    np.testing.assert_array_equal(fresh.sample(), want["flags"])


def test_bad_state_is_named():
    chip = AccumulatorArray(make_config(0))
    st_ = chip.state()
    with pytest.raises(ValueError, match="state: missing 'th_top'"):
        chip.load_state({k: v for k, v in st_.items() if k != "th_top"})
    with pytest.raises(ValueError, match="state: pos must be integer of shape"):
        chip.load_state({**st_, "pos": st_["pos"][:1]})
    with pytest.raises(ValueError, match="state: neg positions must lie in"):
        chip.load_state({**st_, "neg": st_["neg"] - 1})
