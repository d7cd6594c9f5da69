"""golden.p2m_layer, golden.network, golden.export: the P2M first layer's modes, its
quantization, and the chip configuration it exports (checked against the device model)."""

import numpy as np
import pytest
import torch

from analog_models.accumulator import AccumulatorArray
from analog_models.chip_config import ChipConfig
from analog_models.mdwmtj import TRACK_TICKS
from golden.export import check_matches, export_chip_config, first_layer_codes
from golden.network import NetConfig, P2MNet
from golden.p2m_layer import WEIGHT_LEVELS, P2MConv

torch.set_num_threads(1)


def small_net(weight_config="cmos+x", **kw):
    cfg = NetConfig(sensor_height=9, sensor_width=9, p2m_channels=4, weight_config=weight_config,
                    widths=(4, 4, 4), pool=(False, True, False, False), hidden=8, **kw)
    torch.manual_seed(0)
    return P2MNet(cfg)


def test_shapes_and_modes():
    net = small_net()
    x = torch.poisson(torch.full((3, 2, 2, 9, 9), 0.5))
    for mode in ("fitted", "ideal"):
        net.set_mode(mode)
        out = net(x)
        assert out.shape == (2, 10)
        assert net.last_spikes["p2m"].shape == (3, 2, 4, 4, 4)
        assert set(net.last_spikes["p2m"].unique().tolist()) <= {0.0, 1.0}
    net.set_mode("chip")
    with pytest.raises(RuntimeError, match="events"):
        net(x)
    with pytest.raises(ValueError, match="mode"):
        net.set_mode("analog")
    with pytest.raises(ValueError, match="noise"):
        net.p2m.noise = 1.5


def test_increments_follow_the_sign_and_g():
    """One ON event at pixel (4, 4): the neurons whose 3x3 stride-2 windows cover it move,
    by g(|w|) / n_fs on the accumulator of the weight's sign; level-0 weights are no cell."""
    layer = P2MConv(channels=2)
    with torch.no_grad():
        layer.weight.zero_()
        layer.weight[0, 1, 1, 1] = 0.6  # neuron (1, 1): pixel (4, 4) = (2*1 + 2, 2*1 + 2)?
        layer.weight[0, 1, 2, 2] = -1.0
        layer.weight[1, 1, 0, 0] = 0.02  # rounds to level 0: no cell
    counts = torch.zeros(1, 2, 9, 9)
    counts[0, 1, 4, 4] = 1
    pos, neg = layer.increments(counts)
    g = lambda w: float(layer.curves.g(torch.tensor(w))) / layer.curves.n_fs  # noqa: E731
    # pixel 4 = 2*oy + ky: (oy, ky) in {(1, 2), (2, 0)}
    assert pos[0, 0, 1, 1] == 0 and pos[0, 0, 2, 2] == 0  # ky=2 is -1.0; ky=0 is 0
    assert float(neg[0, 0, 1, 1].detach()) == pytest.approx(g(1.0), rel=1e-6)
    assert float(pos[0, 1].detach().abs().sum()) == 0 and float(neg[0, 1].detach().abs().sum()) == 0
    counts[0, 1, 4, 4] = 0
    counts[0, 1, 3, 3] = 3  # pixel 3: (oy, ky) = (1, 1): three events on weight 0.6
    pos, neg = layer.increments(counts)
    assert float(pos[0, 0, 1, 1].detach()) == pytest.approx(3 * g(0.6), rel=1e-6)


def test_quantized_forward_uses_the_exported_codes():
    net = small_net()
    net.p2m.quantize = True
    codes = first_layer_codes(net)
    w_q = net.p2m._effective_weight().detach().numpy()
    np.testing.assert_allclose(w_q, codes["weight_sign"] * codes["levels"] / WEIGHT_LEVELS,
                               rtol=0, atol=1e-7)
    th = net.p2m.effective_threshold().detach()
    levels = net.p2m.curves.threshold_levels
    np.testing.assert_allclose(th.numpy(), levels[torch.as_tensor(codes["threshold_codes"])],
                               rtol=0, atol=0)


@pytest.mark.parametrize("weight_config", ["cmos", "mdwmtj", "cmos+x"])
def test_export_matches_the_device_model(weight_config, tmp_path):
    """The exported configuration, built as a nominal chip (no variation), moves each wall
    per event by what the fitted layer assumes: g(|w|) / n_fs for the cell's level, on the
    accumulator of the weight's sign (within the fit error of g, 2.5 % of full scale)."""
    net = small_net(weight_config)
    cfg = export_chip_config(net, window_us=32_000, variation="none")
    path = cfg.save(tmp_path / "chip.json")
    back = ChipConfig.load(path)
    check_matches(back, net, str(path))
    chip = AccumulatorArray(back)
    codes = first_layer_codes(net)
    # (C, P, K, K): the first neuron's cells, nominal chip; sign-0 cells drive nothing
    inc = np.where(codes["weight_sign"] != 0, chip.increments[:, 0, 0], 0.0)
    g = net.p2m.curves.g(torch.as_tensor(codes["levels"] / WEIGHT_LEVELS,
                                         dtype=torch.float32)).numpy()
    want = np.where(codes["weight_sign"] != 0, g / net.p2m.curves.n_fs, 0.0)
    full = 1.0 / net.p2m.curves.n_fs
    assert np.all(np.abs(inc - want) <= 0.025 * full), np.abs(inc - want).max() / full
    assert np.array_equal(np.asarray(back.weight_sign), codes["weight_sign"])


def test_geometry_mismatch_is_a_clear_error(tmp_path):
    net = small_net()
    cfg = export_chip_config(net, 32_000)
    other = small_net()
    other.cfg.p2m_channels = 8
    with pytest.raises(ValueError, match="geometry.channels"):
        check_matches(cfg, other, "chip.json")


def test_constrain_keeps_the_programmable_range():
    net = small_net()
    with torch.no_grad():
        net.p2m.weight.mul_(5)
        net.p2m.threshold.fill_(3.0)
    net.constrain_()
    assert float(net.p2m.weight.detach().abs().max()) <= 1.0
    assert float(net.p2m.threshold.detach().max()) <= float(net.p2m.curves.threshold_levels.max())


def test_noise_is_seeded_and_zero_noise_is_deterministic():
    net = small_net()
    x = torch.poisson(torch.full((4, 3, 2, 9, 9), 1.0))
    net.set_mode("fitted", noise=0.0)
    a, b = net(x), net(x)
    assert torch.equal(a, b)
    net.set_mode("fitted", noise=0.2)
    torch.manual_seed(3)
    c = net(x)
    s1 = net.last_spikes["p2m"].clone()
    torch.manual_seed(3)
    d = net(x)
    assert torch.equal(c, d) and torch.equal(s1, net.last_spikes["p2m"])
    torch.manual_seed(4)
    net(x)
    assert not torch.equal(s1, net.last_spikes["p2m"])


def test_reprogramming_keeps_the_fabricated_transistors():
    """Table 2 / Fig. 5: after freeze_transistors only the MDWMTJ codes and thresholds train;
    the increments follow the nominal CMOS+X table, the MDWMTJ trims them down (30-40 %),
    and the export carries the fixed transistor codes with the trained MDWMTJ codes."""
    src = small_net()
    cfg = src.cfg
    cfg.reprogram = True
    net = P2MNet(cfg)
    state = {k: v for k, v in src.state_dict().items()}
    net.load_state_dict({**net.state_dict(), **state})
    net.p2m.freeze_transistors()
    levels = first_layer_codes(src)["levels"]
    counts = torch.zeros(1, 2, 9, 9)
    counts[0, 0, 0, 0] = 1  # pixel (0, 0): cell (p=0, 0, 0) of neuron (0, 0)
    p0, n0 = net.p2m.increments(counts)
    with torch.no_grad():
        net.p2m.mtj_code.fill_(15.0)  # every weight MDWMTJ at its highest resistance
    p1, n1 = net.p2m.increments(counts)
    before = (p0 + n0)[0, :, 0, 0].detach()
    after = (p1 + n1)[0, :, 0, 0].detach()
    live = before > 0
    ratio = (after[live] / before[live]).numpy()
    assert np.all((ratio > 0.55) & (ratio < 0.75)), ratio  # the trim: 25-45 % down
    table = net.p2m.trim_table
    want = table[torch.as_tensor(levels[:, 0, 0, 0]), 0] / net.p2m.curves.n_fs
    np.testing.assert_allclose(before.numpy(), np.where(levels[:, 0, 0, 0] > 0, want, 0),
                               rtol=1e-5, atol=1e-9)
    with torch.no_grad():
        net.p2m.mtj_code.fill_(6.4)
    cfg_out = export_chip_config(net, 32_000)
    assert np.array_equal(cfg_out.transistor_codes, levels)
    assert set(np.unique(cfg_out.weight_codes)) == {6}
    with pytest.raises(ValueError, match="reprogram"):
        P2MConv(weight_config="cmos", reprogram=True)


@pytest.mark.parametrize("padding", [0, 1, 2])
def test_padding_same_displacements_in_layer_and_chip(padding, tmp_path):
    """With the geometry's padding (windows hanging over the sensor edge), the nominal chip
    built from the export moves every neuron's walls by what the fitted layer's padded
    convolution says, for events anywhere on the sensor (edges and corners included)."""
    net = small_net(p2m_padding=padding)
    cfg = ChipConfig.load(export_chip_config(net, 32_000, variation="none")
                          .save(tmp_path / "chip.json"))
    g = cfg.geometry
    assert (g.padding, g.out_height) == (padding, (9 + 2 * padding - 3) // 2 + 1)
    assert net.first_shape == (4, g.out_height, g.out_width)
    chip = AccumulatorArray(cfg)
    rng = np.random.default_rng(padding)
    n = 400
    x, y, p = rng.integers(0, 9, n), rng.integers(0, 9, n), rng.integers(0, 2, n)
    x[:4], y[:4] = [0, 8, 0, 8], [0, 0, 8, 8]  # the corners
    chip.apply_events(x, y, p)
    counts = torch.zeros(1, 2, 9, 9)
    np.add.at(counts[0].numpy(), (p, y, x), 1.0)
    with torch.no_grad():
        net.p2m.quantize = True
        pos, neg = net.p2m.increments(counts)
    full = 1.0 / net.p2m.curves.n_fs
    # events that reach each neuron (any cell): the padded convolution with a ones kernel
    reach = torch.nn.functional.conv2d(counts.sum(1, keepdim=True), torch.ones(1, 1, 3, 3),
                                       stride=2, padding=padding)[0, 0].numpy()
    assert reach[0, 0] > 0 and reach[-1, -1] > 0
    for acc, want in ((chip.acc_pos.ticks, pos[0]), (chip.acc_neg.ticks, neg[0])):
        got = acc / float(TRACK_TICKS)
        err = np.abs(got - want.numpy().clip(max=1.0))
        # the fit error of g: 2.5 % of full scale per event (test_export_matches_...)
        assert np.all(err <= 0.025 * full * reach + 1e-12), err.max()


def test_offset_trim_network_exports_the_trim_and_draws_no_threshold_noise(monkeypatch):
    """NetConfig.offset_trim: the export carries the instance's trim codes (explicit
    offset_trim=False leaves them out), and the fitted noise has no threshold term (the
    trim cancels each neuron's divider and comparator offsets at rest)."""
    net = small_net(offset_trim=True)
    cfg = export_chip_config(net, 32_000)
    assert cfg.comparator_trim is not None and cfg.comparator_trim.shape == (4, 4, 4)
    assert export_chip_config(net, 32_000, offset_trim=False).comparator_trim is None
    assert export_chip_config(small_net(), 32_000).comparator_trim is None

    def no_threshold_noise(*_):
        raise AssertionError("threshold noise drawn for an offset-trimmed chip")

    monkeypatch.setattr(net.p2m.curves, "threshold_sigma", no_threshold_noise)
    net.set_mode("fitted", noise=0.1)
    net(torch.poisson(torch.full((2, 2, 2, 9, 9), 0.5)))
