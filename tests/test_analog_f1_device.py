"""The characterization's f1 sweep and g(w) against the per-event device model
(``AccumulatorArray``): same physics, same numbers.

``f1_sweep`` computes positions in closed form (``f1_positions``); the chip accumulates
integer ticks event by event (``a = floor(dq / l * 2**24)`` per nominal pulse, jitter in
units of 2**-16). The quantization error is below 2**-24 of the track per event, so after
at most ~100 events the two agree to < 1e-5 of the track: the tolerance used here.
"""

import numpy as np
import pytest
from scipy.stats import ks_2samp

from analog_models import characterization as ch
from analog_models.accumulator import AccumulatorArray
from analog_models.chip_config import ChipConfig, Geometry
from analog_models.fitted import load_f1f2
from analog_models.presets import PAPER_2024
from analog_models.variation import JITTER_ONE
from analog_models.weight_cells import WEIGHT_CONFIGS

TOL = 1e-5  # of the track (see the module docstring)
CENTRE = (1, 1)  # the tap driven by the centre pixel of a 3x3 sensor


def _codes(config: str, m: int) -> dict:
    """ChipConfig codes that give code-linear weight level ``m`` (as f1_sweep defines it)."""
    if config == "cmos":
        return {"weight_codes": m}
    if config == "mdwmtj":
        return {"weight_codes": 15 - m}  # more set pulses = higher R = smaller weight
    return {"weight_codes": PAPER_2024.circuit.cmosx_mtj_code, "transistor_codes": m}


def _chip(config: str, m: int, channels: int = 1, variation: str = "none",
          seed: int = 0) -> AccumulatorArray:
    geo = Geometry(sensor_height=3, sensor_width=3, polarities=1, channels=channels,
                   kernel=3, stride=2)
    sign = np.zeros(geo.weight_shape, dtype=np.int64)
    sign[:, 0, CENTRE[0], CENTRE[1]] = 1  # one positive tap; the others have no device
    kw = {k: np.full(geo.weight_shape, v) for k, v in _codes(config, m).items()}
    return AccumulatorArray(ChipConfig(geometry=geo, weight_config=config,
                                       device_preset="paper2024", weight_sign=sign,
                                       variation=variation, variation_seed=seed, **kw))


def _fire(chip: AccumulatorArray, n: int) -> None:
    chip.apply_events(np.full(n, CENTRE[1]), np.full(n, CENTRE[0]), np.zeros(n, int))


@pytest.mark.parametrize("config", WEIGHT_CONFIGS)
def test_f1_sweep_matches_the_nominal_device(config):
    sw = ch.f1_sweep(PAPER_2024, config, 2, 0, variation=False)
    n_max = int(sw["n"][-1])
    for m in (0, 1, 6, 11, 15):
        chip = _chip(config, m)
        done = 0
        for n in (1, 7, n_max // 2, n_max):
            _fire(chip, n - done)
            done = n
            assert chip.d_pos[0, 0, 0] == pytest.approx(sw["d"][0, m, n - 1], abs=TOL), (m, n)
            assert chip.d_neg[0, 0, 0] == 0.0
        # the track saturates where the sweep says it does
        _fire(chip, 3 * n_max)
        assert chip.d_pos[0, 0, 0] == pytest.approx(
            ch.f1_positions(PAPER_2024, sw["i_nominal"][m], np.ones(4 * n_max))[-1], abs=TOL)


@pytest.mark.parametrize("config", WEIGHT_CONFIGS)
def test_f1_positions_match_the_device_with_variation_same_draws(config):
    """With variation: feed the chip's own draws (its cell current with mismatch, R
    variation and programmed weight device; its per-event jitter) into the closed form."""
    for m, seed in ((3, 1), (9, 2), (15, 3)):
        chip = _chip(config, m, variation="paper", seed=seed)
        current = chip.cell_currents()[0, 0, 0, 0, CENTRE[0], CENTRE[1]]
        n = 80
        widths = chip.event_jitter(0, n) / JITTER_ONE
        assert widths.std() > 0.05  # the 10 % jitter is on
        want = ch.f1_positions(PAPER_2024, current, widths)
        got = []
        for _ in range(n):
            _fire(chip, 1)
            got.append(chip.d_pos[0, 0, 0])
        np.testing.assert_allclose(got, want, rtol=0, atol=TOL)


@pytest.mark.parametrize("config", WEIGHT_CONFIGS)
def test_f1_sweep_variation_statistics_match_the_device(config):
    """Different seed streams: the per-cell write-current distributions of f1_sweep's
    instances and of 400 independent chip cells (one channel each) agree (KS test), and
    so do the pulse-jitter distributions."""
    n = 400
    sw = ch.f1_sweep(PAPER_2024, config, n, 0)
    for m in (4, 12):
        chip = _chip(config, m, channels=n, variation="paper", seed=11)
        dev = chip.cell_currents()[:, 0, 0, 0, CENTRE[0], CENTRE[1]]
        ref = sw["i_instances"][:, m]
        assert ks_2samp(dev, ref).pvalue > 1e-3, (m, dev.std(), ref.std())
        assert np.median(dev) == pytest.approx(np.median(ref), rel=0.02)
        assert dev.std() == pytest.approx(ref.std(), rel=0.2)
    j = chip.event_jitter(0, 20000) / JITTER_ONE
    assert j.mean() == pytest.approx(1.0, abs=0.003) and j.std() == pytest.approx(0.1, rel=0.03)
    assert j.min() >= 0.7 - 1e-4 and j.max() <= 1.3 + 1e-4  # truncated at 3 sigma


@pytest.mark.parametrize("config", WEIGHT_CONFIGS)
def test_g_and_d_norm_match_the_device(config):
    """golden's MAC view: ``g(w)`` (per-event increment over the full-scale one) and
    ``d_norm`` (``min(sum g(w)/n_fs, 1)``) against the nominal chip, for every level and
    for a mixed-weight event train; f1(x) of the code-linear x is only a fit."""
    f = load_f1f2()
    full = _chip(config, 15).increments[0, 0, 0, 0, CENTRE[0], CENTRE[1]]
    w = np.arange(16) / 15
    g_dev = np.array([_chip(config, m).increments[0, 0, 0, 0, CENTRE[0], CENTRE[1]]
                      for m in range(16)]) / full
    np.testing.assert_allclose(f.g(w, config), g_dev, atol=0.01)
    assert f.n_fs(config) == pytest.approx(1.0 / full, rel=1e-4)
    # a mixed train: 9 events of each of three levels on a 3x3 kernel of those levels
    rng = np.random.default_rng(5)
    levels = rng.integers(0, 16, 3)
    total = 0.0
    for m in levels:
        chip = _chip(config, int(m))
        _fire(chip, 9)
        total += chip.d_pos[0, 0, 0]
    assert f.d_norm(levels / 15, np.full(3, 9), config) == pytest.approx(total, abs=0.01)


def test_f1_alone_misses_the_mdwmtj_floor():
    """The code-linear one-variable f1 misses g(0) = 0.27 of the MDWMTJ cell: the device
    moves the wall for w = 0, f1(0) = 0. d_norm (through g) gets it right."""
    f = load_f1f2()
    assert f.g(0.0, "mdwmtj") == pytest.approx(0.27, abs=0.01)
    chip = _chip("mdwmtj", 0)
    _fire(chip, 40)
    dev = chip.d_pos[0, 0, 0]
    assert dev > 0.15 and f.f1(0.0, "mdwmtj") == 0.0
    assert f.d_norm(np.zeros(40), config="mdwmtj") == pytest.approx(dev, abs=0.005)
    with pytest.raises(ValueError, match="weights"):
        f.d_norm(np.array([1.5]))
    with pytest.raises(ValueError, match="counts"):
        f.d_norm(np.array([0.5]), np.array([-1]))
