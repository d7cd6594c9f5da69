"""golden.energy: exact synaptic-operation counts, the energy ratio, the front-end model;
golden.experiments: the commands run end to end on a tiny setting."""

import numpy as np
import pytest
import torch

from golden.energy import EnergyModel, _fanout_map, backend_energy, frontend_comparison, layer_ops
from golden.network import NetConfig, P2MNet


def test_fanout_maps_count_the_covering_windows():
    fo = _fanout_map(9, 9, 3, 2, 0)  # 3x3 stride 2, no padding: outputs 4 x 4
    # pixel 0 is in window 0 only, pixel 2 in windows 0 and 1, pixel 8 in the last one
    assert fo[0, 0] == 1 and fo[0, 2] == 2 and fo[2, 2] == 4 and fo[8, 8] == 1
    assert fo.sum() == 4 * 4 * 9  # every window holds 9 pixels
    assert _fanout_map(10, 10, 3, 2, 0)[9].sum() == 0  # a last row no window reaches
    same = _fanout_map(5, 5, 3, 1, 1)  # 3x3, padding 1: corners reach 4, interior 9
    assert same[0, 0] == 4 and same[2, 2] == 9 and same.sum() == 4 * 4 + 12 * 6 + 9 * 9


def test_layer_ops_by_hand():
    torch.manual_seed(0)
    cfg = NetConfig(sensor_height=9, sensor_width=9, p2m_channels=2, widths=(3, 3, 3),
                    pool=(False, False, False, False), hidden=5)
    net = P2MNet(cfg)
    net.set_mode("fitted")
    counts = torch.zeros(2, 1, 2, 9, 9)
    counts[0, 0, 1, 2, 2] = 3  # one pixel, 3 events, in window 0: 4 neurons x 2 channels
    counts[1, 0, 0, 0, 0] = 1  # one pixel in window 1: 1 neuron x 2 channels
    net(counts)
    ops = layer_ops(net, counts)
    assert float(ops["p2m"][0]) == (4 + 1) * 2
    s = net.last_spikes["p2m"]
    fo = _fanout_map(4, 4, 3, 1, 1)
    assert float(ops["conv2"][0]) == float(((s[:, 0] != 0) * fo).sum()) * 3
    e = backend_energy({k: v.numpy() for k, v in ops.items()}, EnergyModel())
    assert e["p2m_J"] < e["conventional_J"]
    layer1 = e["per_layer"]["p2m"]
    m = EnergyModel()
    assert layer1["energy_J"] == pytest.approx(10 * (m.e_mac + m.e_mem) + 2 * 2 * 16 * 2 * m.e_mem)


def test_frontend_energy_per_configuration():
    torch.manual_seed(1)
    net = P2MNet(NetConfig(widths=(4, 4, 4), hidden=8))
    fe = frontend_comparison(net, 32_000, events_per_sample=4000, windows=10,
                             resets_per_sample=500)
    assert set(fe) == {"cmos", "mdwmtj", "cmos+x"}
    for v in fe.values():
        assert 1e-14 < v["per_event_J"] < 1e-11  # tens of fJ to pJ per event
        assert v["per_sample_J"] == pytest.approx(4000 * v["per_event_J"] + 10 * v[
            "per_window_read_J"] + 500 * v["per_reset_neuron_J"])
    # the read and reset parts do not depend on the weights
    assert fe["cmos"]["per_window_read_J"] == fe["cmos+x"]["per_window_read_J"]


def test_table2_needs_two_datasets(capsys):
    from p2m.cli import main

    assert main(["experiment", "table2", "--epochs", "1", "--dataset", "default"]) == 2
    assert "two datasets" in capsys.readouterr().err


def test_fig7_end_to_end_tiny(tmp_path):
    from golden.experiments import run_experiment

    torch.set_num_threads(1)
    rows = run_experiment("fig7", out=tmp_path, datasets=["default"], epochs=1,
                          progress=False, arch={"widths": [4, 4, 4], "hidden": 8,
                                                "p2m_channels": 4}, limit=12)
    assert [r["l1"] for r in rows] == [0.0, 0.5, 2.0]
    for name in ("fig7.md", "fig7.csv", "fig7.png", "fig7.json"):
        assert (tmp_path / "fig7" / name).stat().st_size > 0
    assert all(np.isfinite(r["bandwidth"]) for r in rows)


def test_table2_reprogramming_end_to_end_tiny(tmp_path):
    """Train on A, keep its first layer (backend retrained), reprogram the MDWMTJs and
    thresholds (transistors fixed), train from scratch: all three evaluated, also on a chip."""
    from analog_models.chip_config import ChipConfig
    from golden.checkpoint import load_net
    from golden.experiments import run_experiment
    from golden.export import export_chip_config

    torch.set_num_threads(1)
    rows = run_experiment("table2", out=tmp_path, datasets=["default", "default"], epochs=1,
                          progress=False, arch={"widths": [4, 4, 4], "hidden": 8,
                                                "p2m_channels": 4}, limit=12)
    assert len(rows) == 3 and all(0 <= r["chip_accuracy"] <= 100 for r in rows)
    base = tmp_path / "table2"
    src, _ = load_net(base / "default" / "source")
    rep, _ = load_net(base / "default_to_default" / "first_layer_reprogrammed")
    a = export_chip_config(src, 32_000)
    b = export_chip_config(rep, 32_000)
    # the fabricated part is the same chip: signs and transistor codes
    assert np.array_equal(a.weight_sign, b.weight_sign)
    assert np.array_equal(a.transistor_codes, b.transistor_codes)
    assert isinstance(ChipConfig.from_dict(b.to_dict()), ChipConfig)
    assert (base / "table2.md").exists() and (base / "table2.png").exists()
