"""tb/program_chip.py without a simulator: a chip configuration that does not fit the RTL
(geometry or code widths) is refused with a message naming the field and both values."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analog_models.chip_config import ChipConfig, Geometry
from tb import config as tbconfig
from tb.program_chip import (
    PROG_CODE_BITS,
    check_programmable,
    chip_commands,
    config_geometry,
    expected_devices,
    random_config,
    rtl_geometry,
)


def test_rtl_geometry_is_the_default_chip():
    g = Geometry()
    rtl = tbconfig.Geometry()
    assert rtl_geometry() == {"channels": rtl.n_ch, "polarities": 2, "kernel": 3, "stride": 2,
                              "out_height": rtl.out_h, "out_width": rtl.out_w}
    assert all(getattr(g, k) == v for k, v in rtl_geometry().items())
    for wc in ("cmos", "mdwmtj", "cmos+x"):
        check_programmable(random_config(1, wc))
    assert len(chip_commands(ChipConfig(weight_config="cmos"))) == 2 * rtl.n_ch


@settings(max_examples=40, deadline=None)
@given(n_ch=st.integers(1, 40), out_h=st.integers(1, 70), out_w=st.integers(1, 70),
       seed=st.integers(0, 2**31), wc=st.sampled_from(["cmos", "mdwmtj", "cmos+x"]))
def test_random_config_fits_any_rtl_geometry(n_ch, out_h, out_w, seed, wc):
    """random_config(geo=) draws a configuration the RTL of that geometry accepts: one
    command per weight cell with a device and two per channel, indices inside the chip."""
    rtl = tbconfig.Geometry(n_ch=n_ch, out_h=out_h, out_w=out_w)
    cfg = random_config(seed, wc, geo=rtl)
    check_programmable(cfg, rtl)
    assert (cfg.geometry.out_height, cfg.geometry.out_width) == (out_h, out_w)
    assert cfg.geometry.padding == 0
    cmds = chip_commands(cfg, rtl)
    n_w = sum(1 for t, _, _ in cmds if t == 0)
    assert len(cmds) == n_w + 2 * n_ch
    assert n_w == (0 if wc == "cmos" else int((cfg.weight_sign != 0).sum()))
    assert all(0 <= i < (rtl.n_weights if t == 0 else n_ch) for t, i, _ in cmds)
    assert len(expected_devices(cfg, rtl)) == len(cmds)


def test_config_geometry_keeps_the_paper_sensor_for_the_default_chip():
    assert config_geometry() == Geometry()
    assert config_geometry(tbconfig.Geometry(n_ch=4, out_h=3, out_w=5)) == Geometry(
        sensor_height=7, sensor_width=11, channels=4)


@pytest.mark.parametrize("geo,field,cfg_value,rtl_value", [
    (dict(channels=16), "channels", 16, 32),
    (dict(polarities=1), "polarities", 1, 2),
    (dict(kernel=5), "kernel", 5, 3),
    (dict(stride=1), "stride", 1, 2),
    (dict(sensor_height=40), "out_height", 19, 16),
    (dict(sensor_width=28), "out_width", 13, 16),
])
@pytest.mark.parametrize("weight_config", ["cmos", "cmos+x"])
def test_geometry_mismatch_is_named(geo, field, cfg_value, rtl_value, weight_config):
    cfg = ChipConfig(geometry=Geometry(**geo), weight_config=weight_config)
    with pytest.raises(ValueError) as exc:
        chip_commands(cfg)
    msg = str(exc.value)
    assert msg.startswith(f"cfg.geometry.{field}: ")
    assert f"config has {cfg_value}" in msg and f"RTL has {rtl_value}" in msg


def test_sensor_size_that_gives_16x16_outputs_is_accepted():
    # (33 - 3) // 2 + 1 = 16: the RTL only sees the 16 x 16 outputs
    cfg = ChipConfig(geometry=Geometry(sensor_height=33, sensor_width=33))
    assert chip_commands(cfg)


@pytest.mark.parametrize("field", ["weight_bits", "threshold_bits"])
def test_codes_wider_than_prog_code_are_refused(field):
    cfg = ChipConfig(weight_config="mdwmtj", **{field: PROG_CODE_BITS + 1})
    with pytest.raises(ValueError) as exc:
        chip_commands(cfg)
    msg = str(exc.value)
    assert msg.startswith(f"cfg.{field}: 9 bits") and "PROG_CODE (8 bits" in msg
    ok = ChipConfig(weight_config="mdwmtj", **{field: PROG_CODE_BITS})
    check_programmable(ok)
