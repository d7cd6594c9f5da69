"""golden.chip: the chip mode runs one device-level chip instance window by window, the
exact reference the RTL + analog co-simulation must reproduce."""

import numpy as np
import pytest

from analog_models.accumulator import AccumulatorArray
from analog_models.chip_config import ChipConfig, Geometry
from events.stream import make_events
from golden.chip import ChipFirstLayer

GEO = Geometry(sensor_height=9, sensor_width=9, channels=3)


def config(seed=0, variation="paper"):
    rng = np.random.default_rng(seed)
    return ChipConfig(geometry=GEO, weight_sign=rng.choice([-1, 1], GEO.weight_shape),
                      weight_codes=np.zeros(GEO.weight_shape, np.int64),
                      transistor_codes=rng.integers(8, 16, GEO.weight_shape),
                      threshold_codes=np.array([20, 24, 28]), window_us=1000,
                      variation=variation, variation_seed=seed)


def events(n, seed=1, t_max=5000):
    rng = np.random.default_rng(seed)
    t = np.sort(rng.integers(0, t_max, n))
    return make_events(rng.integers(0, 9, n), rng.integers(0, 9, n), t, rng.integers(0, 2, n))


def by_hand(cfg, ev, T):
    """The chip mode's definition, event by event with the per-event reference."""
    a = AccumulatorArray(cfg)
    out = []
    for k in range(T):
        sel = np.flatnonzero((ev["t"] >= k * cfg.window_us) & (ev["t"] < (k + 1) * cfg.window_us))
        a.apply_events_reference(ev["x"][sel], ev["y"][sel], ev["p"][sel], index=sel)
        flags = a.sample()
        out.append(flags)
        a.reset(flags)
    return np.stack(out)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_chip_mode_is_the_per_event_reference(seed):
    cfg = config(seed)
    ev = events(3000, seed)
    chip = ChipFirstLayer(cfg, 5)
    spikes = chip.run(ev)
    assert spikes.shape == (5, 3, 4, 4) and spikes.dtype == bool
    np.testing.assert_array_equal(spikes, by_hand(cfg, ev, 5))
    assert 0 < spikes.sum() < spikes.size
    # a second sample on the same instance starts from a global reset: same result
    np.testing.assert_array_equal(chip.run(ev), spikes)


def test_events_after_the_windows_are_not_applied():
    cfg = config()
    ev = events(2000)
    short = ChipFirstLayer(cfg, 3).run(ev)
    cut = ev[ev["t"] < 3000]
    np.testing.assert_array_equal(short, ChipFirstLayer(cfg, 3).run(cut))


def test_reset_instants_lose_the_motion_between_latch_and_reset():
    """Matched timing: a spiking neuron is reset when the RTL resets its channel, so the
    events between its latch and its reset are lost to it (and only to it)."""
    cfg = config()
    ev = events(4000)
    T = 5
    at_end = ChipFirstLayer(cfg, T).run(ev, reset_times=lambda end, flags: np.full(3, end))
    np.testing.assert_array_equal(at_end, ChipFirstLayer(cfg, T).run(ev))
    late = ChipFirstLayer(cfg, T).run(ev, reset_times=lambda end, flags: end + np.array(
        [50.0, 150.0, 400.0]))
    assert late[0].tolist() == at_end[0].tolist()  # the first latch cannot differ
    assert not np.array_equal(late, at_end)  # later windows do: motion was lost
    with pytest.raises(ValueError, match="reset_times"):
        ChipFirstLayer(cfg, T).run(ev, reset_times=lambda end, flags: np.zeros(2))


def test_no_variation_chip_has_no_offsets():
    cfg = config(variation="none")
    chip = ChipFirstLayer(cfg, 2)
    empty = make_events([], [], [], [])
    # thresholds above V_mid: nothing fires without input on a nominal chip
    assert not chip.run(empty).any()
