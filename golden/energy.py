"""Stated models for the paper's bandwidth and backend energy (Fig. 7), and the front-end
energy of the analog first layer (beyond the paper).

**Bandwidth** (paper Sec. 5.2): first-layer output spikes over input events, per sample
(the conventional system sends every input event to the backend: bandwidth 1).

**Backend energy** (paper Sec. 5.2, after Yin et al. 2023, SATA): from the number of
synaptic operations and the memory accesses of each layer. A digital layer costs

    E_l = ops_l (E_op + E_mem) + 2 N_l T E_mem

with ``ops_l`` the synaptic operations (every non-zero input times the output neurons it
reaches: its fan-out, border effects counted exactly), ``E_op`` a multiply-accumulate for
the first layer of the conventional system (its inputs are multi-bit event counts) and an
accumulate for every spiking layer, one weight read ``E_mem`` per operation, and a
membrane read and write for each of the layer's ``N_l`` neurons in each of the T windows.
The conventional backend computes all layers; the P2M backend all but the first (computed
in the pixel array). ``energy_backend_norm`` = P2M backend / conventional backend, both
with the evaluated network's own spike counts.

Per-operation energies (:class:`EnergyModel`, Horowitz, "Computing's energy problem",
ISSCC 2014, 45 nm, 0.9 V): 32-bit floating-point multiply 3.7 pJ and add 0.9 pJ (MAC
4.6 pJ, AC 0.9 pJ); 64-bit read of an 8 kB SRAM 10 pJ, taken as 5 pJ per 32-bit word.
Max pooling and batch norm (folded into the weights) are not counted.

**Front-end energy** (:func:`frontend_energy`, beyond the paper, which only says it stays
similar): per input event, the write pulses of the weight cells it drives (every channel,
every output neuron whose window covers the pixel): ``V_write I_W t_w`` each, with the
nominal ``I_W`` of the programmed codes; per window, the two read dividers of every neuron
(V_pre and V_th) for a read time ``t_read``; per reset neuron, the reset pulses of its two
accumulators (``V_DD I_reset t_reset``, ``V_DD`` the core supply).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class EnergyModel:
    """Per-operation energies (J) of the digital backend (module docstring, Horowitz 2014)."""

    e_mac: float = 4.6e-12  # 32-bit FP multiply 3.7 pJ + add 0.9 pJ (Horowitz 2014, 45 nm)
    e_ac: float = 0.9e-12  # 32-bit FP add 0.9 pJ (Horowitz 2014)
    e_mem: float = 5.0e-12  # 32-bit word of an 8 kB SRAM: 10 pJ per 64-bit read / 2 (Horowitz)

    def describe(self) -> str:
        return (f"E_MAC {self.e_mac * 1e12:.1f} pJ, E_AC {self.e_ac * 1e12:.1f} pJ, "
                f"E_mem {self.e_mem * 1e12:.1f} pJ per 32-bit word (Horowitz, ISSCC 2014, "
                "45 nm); E_l = ops (E_op + E_mem) + 2 N T E_mem")


def _fanout_map(h: int, w: int, k: int, stride: int, pad: int) -> torch.Tensor:
    """(h, w): how many windows of a k x k, stride, pad convolution cover each input pixel
    (rows/columns past the last window: none)."""
    oh, ow = (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
    cover = torch.zeros(h + 2 * pad, w + 2 * pad)
    for ky in range(k):
        for kx in range(k):
            cover[ky:ky + stride * (oh - 1) + 1:stride, kx:kx + stride * (ow - 1) + 1:stride] += 1
    return cover[pad:pad + h, pad:pad + w].contiguous()


def layer_ops(net, counts: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-sample synaptic operations (B,) of every layer of ``net`` after a forward pass
    on ``counts`` (T, B, P, H, W) (its ``last_spikes``), as float64 tensors, plus the
    neurons of each layer (``neurons``) for the membrane accesses."""
    cfg = net.cfg
    s = net.last_spikes
    T = counts.shape[0]
    ops: dict[str, torch.Tensor] = {}
    neurons: dict[str, int] = {}
    # layer 1, conventional digital: every non-zero count, fan-out over the stride-2 windows
    fo = _fanout_map(counts.shape[-2], counts.shape[-1], cfg.p2m_kernel, cfg.p2m_stride,
                     cfg.p2m_padding)
    nz = (counts != 0).to(torch.float64)
    ops["p2m"] = (nz * fo.to(torch.float64)).sum(dim=(0, 2, 3, 4)) * cfg.p2m_channels
    c1, h1, w1 = net.first_shape
    neurons["p2m"] = c1 * h1 * w1
    x = s["p2m"]
    if cfg.pool[0]:  # the backend's pooling of the first-layer spikes
        x = net.pool1(x)
    for i, width in enumerate(cfg.widths):
        name = f"conv{i + 2}"
        h, w = x.shape[-2:]
        fo = _fanout_map(h, w, 3, 1, 1).to(torch.float64)
        ops[name] = ((x != 0).to(torch.float64) * fo).sum(dim=(0, 2, 3, 4)) * width
        neurons[name] = width * h * w
        x = s[name]
    flat = x.flatten(2)
    ops["fc1"] = (flat != 0).to(torch.float64).sum(dim=(0, 2)) * cfg.hidden
    neurons["fc1"] = cfg.hidden
    ops["fc2"] = (s["fc1"] != 0).to(torch.float64).flatten(2).sum(dim=(0, 2)) * cfg.classes
    neurons["fc2"] = cfg.classes
    ops["_neurons"] = torch.tensor([neurons[k] for k in ops if k != "_neurons"],
                                   dtype=torch.float64)
    ops["_T"] = torch.tensor(float(T), dtype=torch.float64)
    return ops


def backend_energy(ops: dict[str, np.ndarray], model: EnergyModel | None = None) -> dict:
    """Mean backend energy per sample (J) of the conventional and the P2M system from
    per-sample op counts (:func:`layer_ops`, concatenated over samples as numpy)."""
    model = model or EnergyModel()
    names = [k for k in ops if not k.startswith("_")]
    neurons = dict(zip(names, np.asarray(ops["_neurons"]).reshape(-1)[:len(names)],
                       strict=True))
    T = float(np.asarray(ops["_T"]).reshape(-1)[0])
    per_layer = {}
    for k in names:
        e_op = model.e_mac if k == "p2m" else model.e_ac
        mean_ops = float(np.mean(ops[k]))
        per_layer[k] = {"ops": mean_ops,
                        "energy_J": mean_ops * (e_op + model.e_mem)
                        + 2.0 * neurons[k] * T * model.e_mem}
    conventional = sum(v["energy_J"] for v in per_layer.values())
    p2m = sum(v["energy_J"] for k, v in per_layer.items() if k != "p2m")
    return {"conventional_J": conventional, "p2m_J": p2m,
            "energy_backend_norm": p2m / conventional if conventional > 0 else float("nan"),
            "per_layer": per_layer, "model": asdict(model), "assumptions": model.describe()}


def frontend_energy(config, events_per_sample: float, windows: int,
                    resets_per_sample: float, t_read: float = 10e-9) -> dict:
    """Front-end (analog first layer) energy per input event and per window (J) of a chip
    configuration (``analog_models.chip_config.ChipConfig``), nominal devices.

    ``t_read``: how long each read divider conducts per window (assumption: one 100 MHz
    readout clock cycle, the comparator's latch)."""
    from analog_models.mdwmtj import effective_resistance
    from analog_models.presets import get_preset
    from analog_models.weight_cells import WeightCellModel

    pr = get_preset(config.device_preset)
    c = pr.circuit
    g = config.geometry
    cells = WeightCellModel(pr, config.weight_config, config.weight_bits,
                            config.transistor_bits)
    i_w = cells.cell_current(config.weight_codes, config.transistor_codes)  # (C, P, K, K)
    present = np.asarray(config.weight_sign) != 0
    # an event at a pixel of polarity p drives, in every channel, one cell (p, ky, kx) of
    # each neuron covering it: on average over the sensor `cover` neurons, each kernel
    # offset equally often; ON and OFF events taken as equally frequent
    cover = float(_fanout_map(g.sensor_height, g.sensor_width, g.kernel, g.stride,
                              g.padding).mean())
    e_cell = np.where(present, pr.v_write(config.weight_config) * i_w * c.write_pulse_width, 0.0)
    mean_cell_per_channel = e_cell.sum() / (g.polarities * g.kernel ** 2)
    e_event = cover * float(mean_cell_per_channel)
    # read: two dividers per neuron (V_pre at the reset state, V_th), V_read^2 / R_series
    acc = pr.accumulator
    r_series = 2 * float(effective_resistance(acc, 0.0))
    n_neurons = g.channels * g.out_height * g.out_width
    e_window = 2 * n_neurons * c.v_read ** 2 / r_series * t_read
    # the reset current is drawn from the core supply (assumption: the CMOS weight cells'
    # write supply) for the reset pulse, on both accumulators
    e_reset = 2 * c.v_write_cmos * c.reset_current * c.reset_pulse_width
    total = events_per_sample * e_event + windows * e_window + resets_per_sample * e_reset
    return {"weight_config": config.weight_config, "per_event_J": e_event,
            "per_window_read_J": e_window, "per_reset_neuron_J": e_reset,
            "per_sample_J": total, "t_read_s": t_read,
            "assumptions": "nominal devices; write V_write I_W t_w per driven cell; read "
                           f"V_read^2 / (2 R_P) for {t_read * 1e9:.0f} ns per divider and "
                           "window; reset V_DD I_reset t_reset per accumulator"}


def frontend_comparison(net, window_us: int, events_per_sample: float, windows: int,
                        resets_per_sample: float) -> dict[str, dict]:
    """:func:`frontend_energy` of ``net``'s first layer realized as CMOS, MDWMTJ and CMOS+X
    weights (the same weight levels, each configuration's codes)."""
    from golden.export import export_chip_config

    out = {}
    for config in ("cmos", "mdwmtj", "cmos+x"):
        saved = net.cfg.weight_config
        try:
            net.cfg.weight_config = config
            chip = export_chip_config(net, window_us, variation="none")
        finally:
            net.cfg.weight_config = saved
        out[config] = frontend_energy(chip, events_per_sample, windows, resets_per_sample)
    return out
