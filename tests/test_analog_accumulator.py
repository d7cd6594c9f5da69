"""The accumulator array: batch == per-event reference bit for bit, reproducibility,
programming, readout, bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analog_models.accumulator import AccumulatorArray
from analog_models.chip_config import ChipConfig, Geometry
from analog_models.mdwmtj import TRACK_TICKS


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
       split=st.integers(1, 5), variation=st.sampled_from(["paper", "none"]))
def test_batch_equals_reference_exactly(seed, n, cfg_kind, split, variation):
    cfg = make_config(seed, cfg_kind, variation=variation, vseed=seed % 1000)
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
