"""Pulse widths act physically (reset and programming pulses move a wall by v(I) x the
width the RTL produced) and reading does not write (the read current stays below I_TH1)."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analog_models.accumulator import AccumulatorArray
from analog_models.chip_config import ChipConfig, Geometry
from analog_models.mdwmtj import TRACK_TICKS
from analog_models.presets import PAPER_2024, PRESETS, RTL_CLOCK_HZ, cycles_at, get_preset
from analog_models.readout import divider_current

F_CLK = RTL_CLOCK_HZ  # docs/rtl.md: 100 MHz
# rtl/REGISTERS.md register defaults (cycles)
RST_WIDTH, PROG_SET_WIDTH, PROG_RST_WIDTH = 16, 4, 32


def chip(weight_config="mdwmtj", variation="paper", programmed=True, seed=3):
    g = Geometry(sensor_height=7, sensor_width=7, channels=2)
    rng = np.random.default_rng(seed)
    cfg = ChipConfig(geometry=g, weight_config=weight_config,
                     weight_sign=rng.choice([-1, 1], g.weight_shape),
                     weight_codes=rng.integers(0, 16, g.weight_shape),
                     transistor_codes=(rng.integers(0, 16, g.weight_shape)
                                       if weight_config == "cmos+x" else None),
                     threshold_codes=rng.integers(0, 64, (g.channels,)),
                     variation=variation, variation_seed=seed)
    return AccumulatorArray(cfg, programmed=programmed)


def full_track(c):
    c.acc_pos.ticks[...] = TRACK_TICKS
    c.acc_neg.ticks[...] = TRACK_TICKS


def test_nominal_widths_are_the_rtl_defaults_at_100_mhz():
    c = PAPER_2024.circuit
    assert cycles_at(c.reset_pulse_width, F_CLK) == RST_WIDTH
    assert cycles_at(c.prog_set_width, F_CLK) == PROG_SET_WIDTH
    assert cycles_at(c.prog_reset_width, F_CLK) == PROG_RST_WIDTH
    rows = {r["pulse"].split(" (")[0]: r for r in PAPER_2024.pulse_requirements(F_CLK)}
    acc = rows["accumulator reset"]
    assert acc["min_cycles"] == 8 and acc["nominal_cycles"] == 16 and acc["margin"] > 2
    for dev in ("weight device reset", "threshold device reset"):
        assert rows[dev]["min_cycles"] == 14 and rows[dev]["margin"] > 2
    for r in rows.values():  # every pulse is driven above its device's depinning current
        assert r["current_A"] > (PAPER_2024.accumulator.i_th if r is acc else
                                 PAPER_2024.weight_device.i_th)
    # another clock: the same seconds, other cycle counts
    assert PAPER_2024.pulse_requirements(200e6)[0]["min_cycles"] == 16
    assert cycles_at(80e-9, F_CLK) == 8 and cycles_at(80.1e-9, F_CLK) == 9
    with pytest.raises(ValueError, match="f_clk_hz"):
        cycles_at(1e-9, 0.0)


@pytest.mark.parametrize("cycles", [1, 4, 7, 8, 16, 100])
def test_accumulator_reset_moves_v_times_width(cycles):
    c = chip()
    full_track(c)
    w = cycles / F_CLK
    c.reset(np.ones(c.neuron_shape, bool), width_s=w)
    need = cycles_at(PAPER_2024.min_reset_width_s(), F_CLK)  # 8 cycles
    acc = PAPER_2024.accumulator
    left = max(acc.l_fl - acc.velocity(PAPER_2024.circuit.reset_current) * w, 0.0) / acc.l_fl
    np.testing.assert_allclose(c.d_pos, left, atol=1e-12)
    if cycles < need:
        assert np.all(c.d_pos > 0.05)  # visibly short of q = 0
    else:
        assert np.all(c.acc_pos.ticks == 0) and np.all(c.acc_neg.ticks == 0)


def test_reset_variants_take_the_width_and_none_is_nominal():
    a, b = chip(), chip()
    for c in (a, b):
        full_track(c)
    a.reset_channel(1, np.ones((a.OH, a.OW), bool), width_s=RST_WIDTH / F_CLK)
    b.reset_channel(1, np.ones((b.OH, b.OW), bool))
    np.testing.assert_array_equal(a.acc_pos.ticks, b.acc_pos.ticks)
    assert np.all(a.acc_pos.ticks[1] == 0) and np.all(a.acc_pos.ticks[0] == TRACK_TICKS)
    a.reset_all(width_s=4 / F_CLK)
    assert np.all(a.acc_neg.ticks[0] > 0) and np.all(a.acc_neg.ticks[0] < TRACK_TICKS)
    b.reset_all()
    assert np.all(b.acc_neg.ticks == 0)
    for bad in (-1e-9, np.nan, [1e-9, 2e-9]):
        with pytest.raises(ValueError, match="width_s"):
            a.reset_all(width_s=bad)
        with pytest.raises(ValueError, match="width_s"):
            a.program_pulse(1, 0, reset=False, width_s=bad)


@pytest.mark.parametrize("weight_config", ["mdwmtj", "cmos+x"])
def test_pulse_by_pulse_with_the_rtl_widths_equals_the_chip_from_the_file(weight_config):
    built = chip(weight_config)
    raw = chip(weight_config, programmed=False)
    cfg = built.config
    g = cfg.geometry
    rst, st_ = PROG_RST_WIDTH / F_CLK, PROG_SET_WIDTH / F_CLK  # what the bridge measures
    for idx in range(g.channels * g.polarities * g.kernel**2):
        raw.program_pulse(0, idx, reset=True, width_s=rst)
        for _ in range(int(cfg.weight_codes.reshape(-1)[idx])):
            raw.program_pulse(0, idx, reset=False, width_s=st_)
    for ch in range(g.channels):
        code = int(cfg.threshold_codes[ch])
        for target, n in ((1, code), (2, 63 - code)):
            raw.program_pulse(target, ch, reset=True, width_s=rst)
            for _ in range(n):
                raw.program_pulse(target, ch, reset=False, width_s=st_)
    np.testing.assert_array_equal(raw.weight_dev.ticks, built.weight_dev.ticks)
    np.testing.assert_array_equal(raw.th_top.ticks, built.th_top.ticks)
    np.testing.assert_array_equal(raw.th_bot.ticks, built.th_bot.ticks)
    np.testing.assert_array_equal(raw.v_th(), built.v_th())


def test_short_programming_pulses_fall_short():
    nominal = chip(variation="none")
    short = chip(variation="none")
    idx = 3  # channel 0, polarity 0, ky 1, kx 0
    for c, w in ((nominal, None), (short, 3 / F_CLK)):
        c.program_pulse(0, idx, reset=True)
        for _ in range(15):
            c.program_pulse(0, idx, reset=False, width_s=w)
    d_nom = nominal.weight_dev.d[0, :, :, 0, 1, 0]
    d_short = short.weight_dev.d[0, :, :, 0, 1, 0]
    assert np.all(d_nom == pytest.approx(1.0, abs=1e-9))  # 15 steps of 1/15: the AP end
    assert np.all(d_short == pytest.approx(0.75, abs=1e-9))  # 3 of 4 cycles: 3/4 step each
    # a programming reset pulse shorter than the sweep leaves the wall short of q = 0
    need = PAPER_2024.min_prog_reset_width_s("weight")
    assert cycles_at(need, F_CLK) == 14
    nominal.program_pulse(0, idx, reset=True, width_s=10 / F_CLK)  # from the AP end
    p = PAPER_2024.weight_device
    left = 1.0 - p.velocity(PAPER_2024.circuit.prog_current) * 10 / F_CLK / p.l_fl
    assert np.all(nominal.weight_dev.d[0, :, :, 0, 1, 0] == pytest.approx(left, abs=1e-9))
    assert left > 0.2
    for c in (nominal, short):
        c.program_pulse(0, idx, reset=True, width_s=14 / F_CLK)
        assert np.all(c.weight_dev.ticks[0, :, :, 0, 1, 0] == 0)


@settings(max_examples=25, deadline=None)
@given(cycles=st.integers(0, 64), code=st.integers(0, 15))
def test_set_pulse_displacement_scales_with_width(cycles, code):
    c = chip(variation="none")
    c.program_pulse(0, 0, reset=True)
    for _ in range(code):
        c.program_pulse(0, 0, reset=False, width_s=cycles / F_CLK)
    d = c.weight_dev.d[0, 0, 0, 0, 0, 0]
    assert d == pytest.approx(min(code * cycles / PROG_SET_WIDTH / 15, 1.0), abs=1e-9)


# ---------------------------------------------------------------- reading does not write
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_read_current_below_depinning_at_every_corner(name):
    """+-3 sigma resistance of both accumulators and of their heavy metal, walls anywhere
    (a grid including both track ends), bias-dependent R: the current that crosses the
    heavy metal during a read stays below (1 - read_margin) I_TH1 (and far below I_TH2 in
    the threshold divider)."""
    pr = get_preset(name)
    acc, c = pr.accumulator, pr.circuit
    d = np.linspace(0.0, 1.0, 11)
    k = 1.0 + acc.r_var_3sigma * np.array([-1.0, 0.0, 1.0])
    grid = np.meshgrid(d, d, k, k, k, k, indexing="ij")
    i = divider_current(acc, grid[0], acc, grid[1], c.v_read, *grid[2:])
    limit = (1.0 - c.read_margin) * acc.i_th
    assert i.max() <= limit
    assert i.max() == pytest.approx(pr.read_current_max(), rel=1e-9)
    th = pr.threshold_device
    assert divider_current(th, grid[0], th, grid[1], c.v_read, *grid[2:]).max() < 0.2 * th.i_th
    # the velocity there is zero: a read of any length leaves every wall where it was
    assert acc.velocity(i.max()) == 0.0


def test_sampling_leaves_the_state_alone():
    c = chip("cmos+x")
    x = np.random.default_rng(0).integers(0, 7, (3, 200))
    c.apply_events(x[0], x[1], x[2] % 2)
    before = c.state()
    for _ in range(3):
        c.sample()
        c.v_pre()
    after = c.state()
    for k in before:
        np.testing.assert_array_equal(after[k], before[k])


def test_a_read_bias_that_would_write_is_refused():
    loud = dataclasses.replace(PAPER_2024.circuit, v_read=0.35)  # the old read bias
    pr = dataclasses.replace(PAPER_2024, circuit=loud)
    assert pr.read_current_max() == pytest.approx(21.3e-6, rel=0.01)  # 2.1 x I_TH1
    with pytest.raises(ValueError, match="v_read.*reading would move the walls"):
        pr.validate()
    slow = dataclasses.replace(PAPER_2024.circuit, reset_pulse_width=70e-9)
    with pytest.raises(ValueError, match="reset_pulse_width"):
        dataclasses.replace(PAPER_2024, circuit=slow).validate()
    slow = dataclasses.replace(PAPER_2024.circuit, prog_reset_width=100e-9)
    with pytest.raises(ValueError, match="prog_reset_width"):
        dataclasses.replace(PAPER_2024, circuit=slow).validate()


def test_registers_md_states_these_minimum_widths():
    """rtl/REGISTERS.md, "Analog pulse-width requirements", quotes the model's numbers."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "rtl" / "REGISTERS.md").read_text()
    sec = text[text.index("## Analog pulse-width requirements"):]
    rows = PAPER_2024.pulse_requirements(F_CLK)
    for r in rows[:2]:
        assert f"**{r['min_cycles']} cycles**" in sec
        assert f"{1e9 * r['min_s']:.1f} ns" in sec
