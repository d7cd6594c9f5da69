"""From a trained first layer to the chip configuration the testbench programs (``p2m export``).

Quantization is part of the model: :class:`golden.p2m_layer.P2MConv` with ``quantize``
uses exactly these codes, so ``fitted`` evaluated with the exported codes is what the chip
gets.

* weight ``w`` (code-linear, [-1, 1]) -> level ``m = round(15 |w|)``; ``m = 0``: no cell
  (``weight_sign`` 0); else ``weight_sign = sign(w)`` and, per weight configuration
  (``analog_models.weight_cells``, ``rtl/REGISTERS.md`` "Programming a chip configuration"):

  | config | ``transistor_codes`` | ``weight_codes`` (what the RTL programs) |
  |---|---|---|
  | ``cmos`` | - | ``m`` (the transistor width code, fixed at fabrication) |
  | ``mdwmtj`` | - | ``15 - m`` set pulses (more pulses: higher R, smaller weight) |
  | ``cmos+x`` | ``m`` (fabricated width) | the preset's nominal MDWMTJ code (``cmosx_mtj_code``), or the trained MDWMTJ codes of a reprogrammed layer |

* threshold ``theta`` (normalized V) -> the code whose nominal level is nearest
  (``threshold_codes``, 6 bits; code 0 the highest threshold);
* ``window_us``: the training framing's window; ``device_preset``, ``variation`` and
  ``variation_seed`` name the chip instance (the same static variation wherever it is
  built from this file).
"""

from __future__ import annotations

import numpy as np

from analog_models.calibration import calibrated
from analog_models.chip_config import ChipConfig, Geometry
from analog_models.presets import get_preset
from golden.network import P2MNet
from golden.p2m_layer import WEIGHT_LEVELS


def first_layer_codes(net: P2MNet) -> dict[str, np.ndarray]:
    """``weight_sign`` (C, P, K, K) int8, ``levels`` (C, P, K, K) int64 (0..15) and
    ``threshold_codes`` (C,) int64 of the network's first layer."""
    p = net.p2m
    if p.reprogram:
        levels = p.fixed_level.cpu().numpy().astype(np.int64)
        sign = p.fixed_sign.cpu().numpy().astype(np.int8)
    else:
        levels = p.weight_levels().cpu().numpy().astype(np.int64)
        sign = np.sign(p.weight.detach().cpu().numpy()).astype(np.int8)
    sign[levels == 0] = 0
    th = p.threshold.detach().clamp(p.th_min, p.th_max)
    codes = p.curves.threshold_code(th).cpu().numpy().astype(np.int64)
    return {"weight_sign": sign, "levels": levels, "threshold_codes": codes}


def export_chip_config(net: P2MNet, window_us: int, variation: str = "paper",
                       variation_seed: int = 0, device_preset: str = "paper2024",
                       meta: dict | None = None, offset_trim: bool | None = None) -> ChipConfig:
    """The :class:`ChipConfig` of ``net``'s first layer (module docstring); ``offset_trim``:
    with the instance's comparator offset-trim codes (analog_models.calibration); None:
    as the network was trained (``NetConfig.offset_trim``)."""
    cfg = net.cfg
    q = first_layer_codes(net)
    levels = q["levels"]
    preset = get_preset(device_preset)
    transistor_codes = None
    if cfg.weight_config == "cmos":
        weight_codes = levels
    elif cfg.weight_config == "mdwmtj":
        weight_codes = np.where(q["weight_sign"] != 0, WEIGHT_LEVELS - levels, 0)
    else:
        transistor_codes = levels
        if net.p2m.reprogram:  # reprogrammed: the trained MDWMTJ codes
            weight_codes = net.p2m.mtj_codes().cpu().numpy().astype(np.int64)
        else:
            weight_codes = np.full(levels.shape, preset.circuit.cmosx_mtj_code, dtype=np.int64)
    geo = Geometry(sensor_height=cfg.sensor_height, sensor_width=cfg.sensor_width,
                   polarities=cfg.polarities, channels=cfg.p2m_channels, kernel=cfg.p2m_kernel,
                   stride=cfg.p2m_stride, padding=cfg.p2m_padding)
    config = ChipConfig(geometry=geo, weight_config=cfg.weight_config,
                        device_preset=device_preset, weight_bits=4, transistor_bits=4,
                        threshold_bits=int(np.log2(net.p2m.curves.threshold_levels.numel())),
                        weight_sign=q["weight_sign"], weight_codes=weight_codes,
                        transistor_codes=transistor_codes,
                        threshold_codes=q["threshold_codes"], window_us=int(window_us),
                        variation=variation, variation_seed=int(variation_seed),
                        meta=dict(meta or {}))
    if offset_trim is None:
        offset_trim = bool(cfg.offset_trim)
    return calibrated(config) if offset_trim else config


def check_matches(config: ChipConfig, net: P2MNet, where: str) -> None:
    """``ValueError`` naming ``where`` and the field unless ``config`` fits ``net``'s first
    layer (geometry and weight configuration)."""
    cfg = net.cfg
    g = config.geometry
    want = {"sensor_height": cfg.sensor_height, "sensor_width": cfg.sensor_width,
            "polarities": cfg.polarities, "channels": cfg.p2m_channels,
            "kernel": cfg.p2m_kernel, "stride": cfg.p2m_stride, "padding": cfg.p2m_padding}
    for k, v in want.items():
        if getattr(g, k) != v:
            raise ValueError(f"{where}: geometry.{k} is {getattr(g, k)}, the checkpoint's "
                             f"first layer has {v}")
    if config.weight_config != cfg.weight_config:
        raise ValueError(f"{where}: weight_config is {config.weight_config!r}, the checkpoint "
                         f"was trained for {cfg.weight_config!r}")
