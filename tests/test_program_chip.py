"""tb/program_chip.py without a simulator: a chip configuration that does not fit the RTL
(geometry or code widths) is refused with a message naming the field and both values."""

from __future__ import annotations

import pytest

from analog_models.chip_config import ChipConfig, Geometry
from tb import config as tbconfig
from tb.program_chip import (
    PROG_CODE_BITS,
    check_programmable,
    chip_commands,
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
