"""``chip`` mode: the first layer on one device-level chip instance, no gradient.

The events of each sample are applied to an :class:`analog_models.accumulator.AccumulatorArray`
built from a chip configuration (its static variation from the configuration's
``variation_seed``): window ``k`` is ``[k W, (k + 1) W)`` microseconds from the sample's
time origin (``W = window_us``, the chip's window grid); at each window end every
comparator is latched; the neurons that fired are reset (both walls to q = 0), the others
keep their walls (non-volatile membrane). Every sample starts from a global reset.

The write-pulse jitter of an event is keyed to the event's index within its sample, so
the result does not depend on how the events are batched or on which samples ran before.

This is the exact reference the RTL + analog co-simulation reproduces spike for spike.
By default the spiking neurons are reset at the window end itself (no event between the
latch and the reset). In matched timing the co-simulation tells the model when the RTL
resets each channel (``reset_times``): the events before that instant are applied first,
so the motion a spiking neuron gains between its latch and its reset is lost, as on the chip.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from analog_models.accumulator import AccumulatorArray
from analog_models.chip_config import ChipConfig
from events.framing import window_bounds

#: ``reset_times(window_end_us, flags (C, OH, OW) bool) -> (C,) float``: the time (us, on
#: the sample's clock) at which each channel's spiking neurons are reset.
ResetTimes = Callable[[int, np.ndarray], np.ndarray]


class ChipFirstLayer:
    """The first layer on one chip instance (module docstring)."""

    def __init__(self, config: ChipConfig, T: int) -> None:
        if not isinstance(T, int) or T < 1:
            raise ValueError(f"T: must be a positive integer, got {T!r}")
        self.config = config
        self.T = T
        self.window_us = int(config.window_us)
        self.array = AccumulatorArray(config)
        self.neuron_shape = self.array.neuron_shape

    def run(self, events: np.ndarray, reset_times: ResetTimes | None = None) -> np.ndarray:
        """First-layer spikes (T, C, OH, OW) bool of one sample's events (structured array
        x, y, t us, p; time-ordered). Events after the T windows are not applied."""
        a = self.array
        a.reset_all()
        t = events["t"]
        bounds = window_bounds(t, self.T, split_by="time", window_us=self.window_us, t_start=0)
        x = events["x"].astype(np.int64)
        y = events["y"].astype(np.int64)
        p = events["p"].astype(np.int64)
        spikes = np.zeros((self.T,) + self.neuron_shape, dtype=bool)
        cursor = int(bounds[0])

        def apply_until(stop: int) -> None:
            nonlocal cursor
            if stop > cursor:  # jitter keyed to each event's index within the sample
                a.apply_events(x[cursor:stop], y[cursor:stop], p[cursor:stop],
                               index=np.arange(cursor, stop, dtype=np.int64))
                cursor = stop

        for k in range(self.T):
            apply_until(max(cursor, int(bounds[k + 1])))
            flags = a.sample()
            spikes[k] = flags
            if reset_times is None:
                a.reset(flags)
                continue
            end_us = (k + 1) * self.window_us
            times = np.asarray(reset_times(end_us, flags), dtype=np.float64)
            if times.shape != (self.neuron_shape[0],):
                raise ValueError(f"reset_times: expected ({self.neuron_shape[0]},) times, "
                                 f"got shape {times.shape}")
            limit = int(bounds[self.T])
            for c in np.argsort(times, kind="stable"):
                if not flags[c].any():
                    continue
                # events strictly before the reset instant reach the walls first
                stop = cursor + int(np.searchsorted(t[cursor:limit], times[c], side="left"))
                apply_until(stop)
                a.reset_channel(int(c), flags[c])
        return spikes

    def run_many(self, samples, progress: bool = False) -> np.ndarray:
        """Spikes (N, T, C, OH, OW) bool of a sequence of event arrays."""
        it = samples
        if progress:
            from tqdm.auto import tqdm

            it = tqdm(samples, desc="chip mode", unit="sample", leave=False)
        return np.stack([self.run(ev) for ev in it]) if len(samples) else \
            np.zeros((0, self.T) + self.neuron_shape, bool)
