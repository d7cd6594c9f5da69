"""The library entry of the closed-loop co-simulation (tb.cosim.run_sample): its result,
its faults (a configuration that does not fit the RTL, events outside the sensor, a hung
simulation, a sample whose readout cannot keep up). The simulations need Icarus and a
trained checkpoint (tb.cosim.find_checkpoint); without them those tests are skipped."""

from __future__ import annotations

import copy
import json
import shutil

import numpy as np
import pytest

from analog_models.chip_config import ChipConfig, Geometry
from tb.cosim import CosimError, default_chip, find_checkpoint, run_sample
from tb.run import verilator_missing

pytestmark = [pytest.mark.sim]

needs_sim = pytest.mark.skipif(shutil.which("iverilog") is None or find_checkpoint() is None,
                               reason="needs Icarus Verilog and a trained checkpoint "
                                      "(tb.cosim.find_checkpoint)")


@pytest.fixture(scope="module")
def chip(tmp_path_factory):
    got = default_chip(tmp_path_factory.mktemp("chip"))
    if got is None:
        pytest.skip("no trained checkpoint (tb.cosim.find_checkpoint)")
    return got


@pytest.fixture(scope="module")
def sample():
    from events.default_dataset import DefaultDigits

    return DefaultDigits(split="test", progress=False)[6][0]


def test_config_that_does_not_fit_the_rtl(tmp_path, sample) -> None:
    cfg = ChipConfig(geometry=Geometry(sensor_height=20, sensor_width=20))
    path = tmp_path / "small.json"
    cfg.save(path)
    with pytest.raises(ValueError, match="out_height"):
        run_sample(path, sample, build_dir=tmp_path / "b")


def test_events_outside_the_sensor(tmp_path, chip, sample) -> None:
    ev = sample.copy()
    ev["x"][7] = 40
    with pytest.raises(ValueError, match=r"sample s: events: x\[7\] = 40"):
        run_sample(chip[0], ev, sample_id="s", build_dir=tmp_path / "b")


@needs_sim
def test_one_sample_end_to_end(tmp_path, chip, sample) -> None:
    """Two windows of a real sample: identical to the golden chip mode, the classes from the
    AER stream and from the golden spikes, a JSON-serializable result with the documented
    keys."""
    path, ck, _ = chip
    r = run_sample(path, sample, sample_id="t6", seed=3, T=2, checkpoint=ck,
                   build_dir=tmp_path / "run", timeout_s=900)
    json.dumps(r)
    assert r["spikes_identical"] and r["spike_mismatches"] == 0, r["mismatch_per_window"]
    assert r["class_rtl"] == r["class_golden"]
    assert len(r["aer_spikes"]) == sum(r["spikes_per_window"])
    assert all(0 <= w < 2 for w, *_ in r["aer_spikes"])
    assert r["lost_events"] == 0 and r["overrun_windows"] == 0 and r["aer_fifo_overflow"] == 0
    assert r["wakeups_per_window"] == 1.0 and r["wakeups_per_event"] < 0.01
    for k in ("wall_s", "stream_wall_s", "sim_time_s", "realtime_factor", "programming"):
        assert k in r, k


@needs_sim
def test_hung_simulation_says_where_it_stopped(tmp_path, chip, sample) -> None:
    """A run stopped by its wall-clock limit names the last stage it reached. The limit is
    per stage (the programming, each sample): 0.5 s, where programming the chip over APB
    takes about 2 s on either simulator, so it always strikes; where depends on the
    simulator's speed."""
    with pytest.raises(CosimError, match=r"hung: a stage ran longer than 0\.5 s wall .*, "
                                         r"stopped at \{'stage': "
                                         r"'(start|program|sample|stream|drained)'"):
        run_sample(chip[0], sample, sample_id="h", T=10, build_dir=tmp_path / "hung",
                   timeout_s=0.5)


@needs_sim
def test_a_sample_in_a_batch_times_as_it_does_alone(tmp_path, chip, sample) -> None:
    """run_samples with one seed per sample (what p2m cosim's batches pass): with random
    receiver delays, the second sample of a simulation has the reset instants, the spike
    differences they cause and the AER stream it has alone with its seed."""
    from events.default_dataset import DefaultDigits
    from tb.cosim import run_samples

    path = chip[0]
    first = DefaultDigits(split="test", progress=False)[2][0]
    keys = ("reset_instant_deviations", "reset_shift_max_ns", "events_in_reset_shift",
            "spike_mismatches", "spike_mismatches_measured", "latch_delay_max_ns",
            "aer_spikes", "seed")
    both = run_samples(path, [("a", first), ("b", sample)], seeds=[11, 12], T=3,
                       backpressure="random", build_dir=tmp_path / "both", timeout_s=900)
    alone = run_sample(path, sample, sample_id="b", seed=12, T=3, backpressure="random",
                       build_dir=tmp_path / "alone", timeout_s=900)
    b = both["samples"][1]
    assert b["reset_instant_deviations"] > 0  # the delays moved the resets
    assert {k: b[k] for k in keys} == {k: alone[k] for k in keys}
    with pytest.raises(ValueError, match="one per sample"):
        run_samples(path, [("a", first)], seeds=[1, 2], build_dir=tmp_path / "x")


_DOG = """
import sys, time
import tb.cosim_flow as f
f.now_ps = lambda: 0  # no simulator here
dog = f.Watchdog(0.4, sys.argv[1])
for k in range(int(sys.argv[2])):  # each sample within the limit, all together beyond it
    dog.update("sample", sample_id=str(k))
    time.sleep(0.25)
dog.update("stream")
time.sleep(float(sys.argv[3]))
dog.stop()
"""


@pytest.mark.parametrize("samples, stall, expires", [(4, 0.0, False), (2, 0.6, True)])
def test_watchdog_limits_each_stage(tmp_path, samples, stall, expires) -> None:
    """tb.cosim_flow.Watchdog gives each sample (and the programming) its own limit: four
    samples of 0.25 s under a 0.4 s limit pass; a stage that stalls 0.6 s ends the process
    with status 124 and says where."""
    import subprocess
    import sys

    path = tmp_path / "dog.json"
    from tb.run import REPO

    r = subprocess.run([sys.executable, "-c", _DOG, str(path), str(samples), str(stall)],
                       capture_output=True, text=True, timeout=60, cwd=REPO)
    assert r.returncode == (124 if expires else 0), r.stderr
    if expires:
        d = json.loads(path.read_text())
        assert d["timeout_s"] == 0.4 and d["where"]["stage"] == "stream", d
    else:
        assert not path.exists()


@needs_sim
def test_readout_slower_than_the_windows_reports_lost_events(tmp_path, chip, sample) -> None:
    """Windows of 100 us are shorter than half a readout of ~3,000-4,000 spikes (6 cycles
    each at 100 MHz): late samples (CNT_OVERRUN), windows merged, the input events of those
    windows counted as lost, and the spikes that differ from the golden model reported (a
    sample's first 600 events squeezed into 0.6 ms: an event rate beyond the chip's)."""
    cfg = ChipConfig.load(chip[0])
    short = copy.deepcopy(cfg)
    short.window_us = 100
    path = tmp_path / "short.json"
    short.save(path)
    ev = sample[:600].copy()  # the sample's first 600 events, squeezed into 0.6 ms
    ev["t"] = np.arange(ev.size) * 600 // ev.size
    r = run_sample(path, ev, sample_id="fast", T=6, build_dir=tmp_path / "fast",
                   timeout_s=900)
    assert r["overrun_windows"] > 0 and r["windows_missed"] > 0, r
    assert r["lost_events"] > 0
    assert r["lost_events"] <= np.count_nonzero(ev["t"] < 6 * 100)
    assert r["spike_mismatches"] > 0 and r["samples_off_documented_time"] > 0


@needs_sim
def test_cosim_campaign_on_the_trimmed_chip_matches_the_golden_chip_mode(tmp_path, capsys):
    """`p2m cosim` end to end on the shipped offset-trimmed checkpoint (3 test samples, 2
    workers): every sample spike-identical to the golden chip mode and of the same class,
    and the campaign's chip accuracy equal to `p2m eval --mode chip` on the same samples and
    chip instance (the golden model's value, tolerance 0: the spikes are identical)."""
    from golden.cli import resolve_checkpoint
    from golden.evaluate import evaluate
    from p2m.cli import main

    ck = resolve_checkpoint("default-cmosx-trim10")
    assert main(["cosim", "--checkpoint", str(ck), "--samples", "3", "--workers", "2",
                 "--out", str(tmp_path / "camp"), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["samples"] == 3 and s["failed"] == 0, s
    assert s["spike_mismatches"] == 0 and s["class_agreement"] == 1.0, s
    chips = json.loads((tmp_path / "camp" / "chips" / "chip_seed0.json").read_text())
    assert "comparator_trim" in chips  # the export carries the instance's trim
    golden = evaluate(ck, split="test", mode="chip", limit=3, progress=False)
    assert s["chip_accuracy"] == s["golden_accuracy"] == golden["accuracy"], (s, golden)


@needs_sim
@pytest.mark.skipif(verilator_missing() is not None, reason=str(verilator_missing()))
def test_cosim_campaign_under_verilator_with_the_waves_sample_under_icarus(tmp_path, capsys):
    """`p2m cosim --sim verilator --waves` (3 samples, 2 workers, 2 per simulation): the
    first sample (waves) runs alone under Icarus and writes its FST, the other two share one
    Verilator simulation; every sample spike-identical to the golden chip mode, and the
    Verilator samples' spikes equal to what Icarus gives for them alone."""
    from golden.cli import resolve_checkpoint
    from p2m.cli import main

    ck = resolve_checkpoint("default-cmosx-trim10")
    out = tmp_path / "camp"
    assert main(["cosim", "--checkpoint", str(ck), "--samples", "3", "--workers", "2",
                 "--per-sim", "2", "--sim", "verilator", "--waves", "--out", str(out),
                 "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["failed"] == 0 and s["simulations"] == 2, s
    assert s["spike_mismatches"] == 0 and s["class_agreement"] == 1.0, s
    res = {k: json.loads((out / "results" / f"{k}.json").read_text())
           for k in ("s0_c0", "s1_c0", "s2_c0")}
    assert res["s0_c0"]["task"]["sim"] == "icarus" and list((out / "sim_build" / "s0_c0")
                                                            .glob("*.fst"))
    assert {res[k]["task"]["sim"] for k in ("s1_c0", "s2_c0")} == {"verilator"}
    assert res["s1_c0"]["batch"]["tasks"] == ["s1_c0", "s2_c0"]
    assert main(["cosim", "--checkpoint", str(ck), "--samples", "1", "--first", "2",
                 "--workers", "1", "--out", str(tmp_path / "icarus"), "--json"]) == 0
    capsys.readouterr()
    alone = json.loads((tmp_path / "icarus" / "results" / "s2_c0.json").read_text())
    assert res["s2_c0"]["aer_spikes"] == alone["aer_spikes"]
