"""The chip scoreboard: the RTL + analog co-simulation against the golden ``chip`` mode, window
by window, spike for spike (docs/verification.md "Closed loop against the golden model").

For one sample streamed through the bridge (:class:`tb.analog_bridge.SampleRecord`):

* the RTL's spikes are the AER addresses the receiver got during each window's readout,
  (T, C, OH, OW) bool;
* the golden model (:class:`golden.chip.ChipFirstLayer`, the same chip configuration, so the
  same chip instance) runs the same events twice: in **matched timing**, told the window
  grid and each channel's reset instant from the documented readout timing
  (tb.readout_timing, a fixed acknowledge latency), and told the reset instants the
  simulation **measured**;
* ``spike_mismatches``: neuron-windows where the RTL's spikes differ from matched timing
  (0 expected with an immediate receiver; with random backpressure the resets move, and the
  events that land between a neuron's latch and its later reset are lost on the chip, not in
  the model: counted, never hidden); ``spike_mismatches_measured``: the same against the
  measured instants (0 expected whenever every window was sampled on its own: the bridge
  and the model apply the same physics; windows merged by an overrun differ);
* timing: how many channel resets rose at another time than documented and by how much,
  how many input events lie between the documented and the measured instants, the latch
  delay after each window end;
* the class: the backend network (golden.network) on the RTL's spikes and on the golden
  chip mode's spikes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from analog_models.chip_config import ChipConfig
from tb.analog_bridge import SampleRecord
from tb.bridge_core import PS_PER_US
from tb.config import ClockTiming, Geometry
from tb.readout_timing import (
    golden_reset_times,
    latch_ps,
    measured_reset_times,
    reset_rise_cycles,
)


def rtl_spikes(rec: SampleRecord, geo: Geometry) -> np.ndarray:
    """The RTL's first-layer spikes of a sample from its AER addresses, (T, C, OH, OW) bool
    (window ``k`` of the sample's grid; a sample taken late counts for the window whose end
    it followed)."""
    out = np.zeros((rec.T, geo.n_ch, geo.out_h, geo.out_w), bool)
    for w in rec.windows:
        if not 0 <= w.k < rec.T or w.aer is None or w.aer.size == 0:
            continue
        out[(w.k, *geo.addr_unpack(w.aer.astype(np.int64)))] = True
    return out


def aer_list(rec: SampleRecord, geo: Geometry) -> list[tuple[int, int, int, int]]:
    """Every AER event of the sample as (window, ch, y, x), in arrival order."""
    out = []
    for w in rec.windows:
        for a in (w.aer if w.aer is not None else ()):
            out.append((int(w.k),) + geo.addr_unpack(int(a)))
    return out


def compare(rtl: np.ndarray, golden: np.ndarray) -> dict[str, Any]:
    """``identical``, ``differing`` neuron-windows, ``per_window`` counts, ``rtl_only`` and
    ``golden_only`` spikes of two (T, C, OH, OW) spike arrays."""
    diff = rtl != golden
    return {"identical": bool(not diff.any()), "differing": int(diff.sum()),
            "per_window": [int(v) for v in diff.reshape(diff.shape[0], -1).sum(1)],
            "rtl_only": int((rtl & ~golden).sum()), "golden_only": int((golden & ~rtl).sum())}


def timing_report(rec: SampleRecord, geo: Geometry, timing: ClockTiming, rst_width: int,
                  ack_latency: int = 0) -> dict[str, Any]:
    """Measured against documented instants: latch delay after each window end (max, ns),
    late samples (latched later than documented), channel resets that rose at another time
    than documented (count, largest shift in ns), and input events lying between the two."""
    period = timing.clk_period_ps
    ev_t = rec.event_times_ps
    dev, shift_max, between, late, delay_max = 0, 0, 0, 0, 0
    for w in rec.windows:
        end = rec.t0_ps + (w.k + 1) * rec.window_us * PS_PER_US
        t_doc = latch_ps(timing, end)
        delay_max = max(delay_max, w.t_latch_ps - end)
        if w.t_latch_ps != t_doc:
            late += 1
        counts = w.flags.sum(axis=1)
        doc = t_doc + reset_rise_cycles(counts, geo, rst_width, ack_latency) * period
        for r in w.resets:
            d = r.t_rise - int(doc[r.ch])
            if d:
                dev += 1
                shift_max = max(shift_max, abs(d))
                lo, hi = sorted((r.t_rise, int(doc[r.ch])))
                between += int(np.searchsorted(ev_t, hi) - np.searchsorted(ev_t, lo))
    return {"latch_delay_max_ns": delay_max / 1000, "samples_off_documented_time": late,
            "reset_instant_deviations": dev, "reset_shift_max_ns": shift_max / 1000,
            "events_in_reset_shift": between}


def score_sample(config: ChipConfig, events: np.ndarray, rec: SampleRecord, geo: Geometry,
                 timing: ClockTiming, rst_width: int, ack_latency: int = 0,
                 net=None) -> dict[str, Any]:
    """Compare one sample (module docstring); ``net``: a golden.network.P2MNet for the
    classes (None: no class). Returns a JSON-serializable dict."""
    from golden.chip import ChipFirstLayer

    T = rec.T
    chip = ChipFirstLayer(config, T)
    gold = chip.run(events, reset_times=golden_reset_times(rec.t0_ps, timing, geo, rst_width,
                                                           ack_latency))
    ends = [(w.k + 1) * rec.window_us for w in rec.windows]
    rises = [{r.ch: r.t_rise for r in w.resets} for w in rec.windows]
    gold_meas = chip.run(events, reset_times=measured_reset_times(rec.t0_ps, ends, rises))
    rtl = rtl_spikes(rec, geo)
    c = compare(rtl, gold)
    cm = compare(rtl, gold_meas)
    sampled = sorted(w.k for w in rec.windows if 0 <= w.k < T)
    missed = sorted(set(range(T)) - set(sampled))
    out: dict[str, Any] = {
        "T": T, "window_us": rec.window_us, "events": int(np.asarray(events).size),
        "events_applied": rec.events, "events_dropped": rec.dropped,
        "windows_sampled": len(sampled),
        "windows_missed": len(missed),
        "lost_events": lost_events(rec, timing, missed),
        "spikes_identical": c["identical"], "spike_mismatches": c["differing"],
        "mismatch_per_window": c["per_window"], "rtl_only": c["rtl_only"],
        "golden_only": c["golden_only"],
        "spike_mismatches_measured": cm["differing"],
        "spikes_per_window": [int(v) for v in rtl.reshape(T, -1).sum(1)],
        "golden_spikes_per_window": [int(v) for v in gold.reshape(T, -1).sum(1)],
    }
    out.update(timing_report(rec, geo, timing, rst_width, ack_latency))
    if net is not None:
        out["class_rtl"] = classify(net, rtl)
        out["class_golden"] = classify(net, gold)
    return out


def lost_events(rec: SampleRecord, timing: ClockTiming, missed: list[int]) -> int:
    """Input events the chip could not treat in their own window: the events of windows
    never sampled (a readout longer than a window merged them into a later sample) and the
    events between a window's end and its sample when that sample came later than documented
    (they count in the earlier window)."""
    t = rec.event_times_ps
    w_ps = rec.window_us * PS_PER_US
    n = 0
    for k in missed:
        lo, hi = rec.t0_ps + k * w_ps, rec.t0_ps + (k + 1) * w_ps
        n += int(np.searchsorted(t, hi) - np.searchsorted(t, lo))
    for w in rec.windows:
        end = rec.t0_ps + (w.k + 1) * w_ps
        if w.t_latch_ps > latch_ps(timing, end):
            n += int(np.searchsorted(t, w.t_latch_ps) - np.searchsorted(t, end))
    return n


def classify(net, spikes: np.ndarray) -> int:
    """The backend's class from first-layer spikes (T, C, OH, OW) of one sample."""
    import torch

    with torch.no_grad():
        x = torch.from_numpy(spikes.astype(np.float32))[:, None]
        return int(net(first_spikes=x).argmax(1)[0])
