"""analog_models.calibration: the per-neuron comparator offset trim, calibrated at rest."""

import json
from dataclasses import replace

import numpy as np
import pytest

from analog_models.accumulator import AccumulatorArray
from analog_models.calibration import calibrated, rest_margins, trim_codes
from analog_models.chip_config import ChipConfig, ChipConfigError, Geometry
from analog_models.presets import PRESETS

GEO = Geometry(sensor_height=9, sensor_width=9, channels=4)
LSB = PRESETS["paper2024"].circuit.comparator_trim_lsb


def config(seed=0, variation="paper"):
    rng = np.random.default_rng(seed)
    return ChipConfig(geometry=GEO, weight_sign=rng.choice([-1, 0, 1], GEO.weight_shape),
                      weight_codes=np.full(GEO.weight_shape, 6, np.int64),
                      transistor_codes=rng.integers(1, 16, GEO.weight_shape),
                      threshold_codes=rng.integers(16, 48, GEO.channels), window_us=1000,
                      variation=variation, variation_seed=seed)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_trim_brings_every_rest_margin_to_the_design_within_half_an_lsb(seed):
    cfg = config(seed)
    design = rest_margins(replace(cfg, variation="none"))
    before = rest_margins(cfg) - design
    assert np.abs(before).max() > 4 * LSB  # the variation's offsets are many LSBs
    cal = calibrated(cfg)
    a = AccumulatorArray(cal)
    a.reset_all()
    after = a.v_pre() - a.v_th() - a.comp_offset - a.comp_trim - design
    assert np.abs(after).max() <= LSB / 2 + 1e-12
    # the decision at rest is the design's wherever the design's margin exceeds an LSB
    nominal = AccumulatorArray(replace(cfg, variation="none"))
    clear = np.abs(design) > LSB
    assert np.array_equal(a.sample()[clear], nominal.sample()[clear])


def test_no_variation_needs_no_trim_and_codes_fit_the_dac():
    assert not trim_codes(config(3, variation="none")).any()
    codes = trim_codes(config(4))
    half = 2 ** (PRESETS["paper2024"].circuit.comparator_trim_bits - 1)
    assert codes.shape == GEO.neuron_shape and codes.min() >= -half and codes.max() < half


def test_trim_in_the_file_round_trip_and_bad_values_are_named(tmp_path):
    cal = calibrated(config(5))
    back = ChipConfig.load(cal.save(tmp_path / "chip.json"))
    assert np.array_equal(back.comparator_trim, cal.comparator_trim)
    assert "comparator_trim" not in config(5).to_dict()
    d = cal.to_dict()
    d["comparator_trim"][0][0][0] = 32
    with pytest.raises(ChipConfigError, match=r"comparator_trim\[0, 0, 0\]"):
        ChipConfig.from_dict(json.loads(json.dumps(d)))
    d["comparator_trim"] = [[0]]
    with pytest.raises(ChipConfigError, match="comparator_trim: shape"):
        ChipConfig.from_dict(d)
