"""Programming a chip configuration (`analog_models.chip_config.ChipConfig`) through APB.

Devices and codes (rtl/REGISTERS.md, PROG_* registers and ``ana_prog_*`` ports):

- weight cells (target 0): for ``weight_config`` ``mdwmtj`` and ``cmos+x`` every cell with a
  transistor (``weight_sign != 0``) gets its MDWMTJ programmed to ``weight_codes[c, p, ky,
  kx]`` at index ``((c*P + p)*K + ky)*K + kx`` (576 cells for C = 32, P = 2, K = 3). Cells with
  ``weight_sign == 0`` have no device and are skipped. ``cmos`` weights are fixed transistor
  widths (fabrication), so no weight pulse is sent.
- threshold dividers (targets 1 and 2, index = channel c): the top device gets
  ``threshold_codes[c]`` and the bottom device ``2**threshold_bits - 1 - threshold_codes[c]``
  (the two MDWMTJs of the divider are programmed complementarily so that the divider ratio,
  and V_th, moves monotonically with the code over the full range).

Each device is one PROG_CMD: one reset pulse, then ``code`` set pulses (PROG_CODE is 8 bits,
so codes up to 255 are accepted: weight_bits and threshold_bits must be <= 8).

The configuration's geometry must be the RTL's (the chip's ``tb.config.Geometry``, read
from the toplevel; default: 32 channels, 2 polarities, 3x3 kernel, 16x16 outputs);
:func:`chip_commands` raises a ``ValueError`` naming the first field that differs, and one
naming the bit width that does not fit PROG_CODE.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from analog_models.chip_config import ChipConfig
from analog_models.chip_config import Geometry as ConfigGeometry
from tb.config import Geometry
from tb.regs import TARGET_TH_BOT, TARGET_TH_TOP, TARGET_WEIGHT

PROG_CODE_BITS = 8


def rtl_geometry(geo: Geometry | None = None) -> dict[str, int]:
    """The chip's geometry as ``analog_models.chip_config.Geometry`` attributes (``out_height``
    and ``out_width`` follow from the sensor size, kernel and stride there)."""
    g = geo or Geometry()
    return {"channels": g.n_ch, "polarities": g.n_pol, "kernel": g.ksize, "stride": g.stride,
            "out_height": g.out_h, "out_width": g.out_w}


def config_geometry(geo: Geometry | None = None) -> ConfigGeometry:
    """A chip configuration geometry that fits the RTL's ``geo``: the paper's 34 x 34 sensor
    when it gives the RTL's outputs (the default chip), else the smallest sensor without
    padding that does ((OUT - 1) * stride + kernel pixels per side)."""
    g = geo or Geometry()
    paper = ConfigGeometry()
    want = rtl_geometry(g)
    if all(int(getattr(paper, k)) == v for k, v in want.items()):
        return paper
    return ConfigGeometry(sensor_height=(g.out_h - 1) * g.stride + g.ksize,
                          sensor_width=(g.out_w - 1) * g.stride + g.ksize,
                          polarities=g.n_pol, channels=g.n_ch, kernel=g.ksize, stride=g.stride)


def check_programmable(cfg: ChipConfig, geo: Geometry | None = None) -> None:
    """Raise ``ValueError`` unless ``cfg`` fits the RTL: its geometry is the chip's
    (the message names the field, the config's value and the RTL's) and its codes fit
    PROG_CODE (weight_bits and threshold_bits <= 8)."""
    g = cfg.geometry
    for name, rtl in rtl_geometry(geo).items():
        v = int(getattr(g, name))
        if v != rtl:
            how = ""
            if name in ("out_height", "out_width"):
                how = (f" (from sensor {g.sensor_height}x{g.sensor_width}, padding "
                       f"{g.padding}, kernel {g.kernel}, stride {g.stride})")
            raise ValueError(f"cfg.geometry.{name}: the config has {v}{how}, the RTL has {rtl}; "
                             "this chip configuration cannot be programmed into p2m_top")
    for name in ("weight_bits", "threshold_bits"):
        bits = int(getattr(cfg, name))
        if bits > PROG_CODE_BITS:
            raise ValueError(f"cfg.{name}: {bits} bits (codes up to {2 ** bits - 1}) do not fit "
                             f"PROG_CODE ({PROG_CODE_BITS} bits, codes up to "
                             f"{2 ** PROG_CODE_BITS - 1})")


def weight_index(c: int, p: int, ky: int, kx: int, polarities: int = 2, kernel: int = 3) -> int:
    """Programming index of weight cell (c, p, ky, kx): ``((c*P + p)*K + ky)*K + kx``."""
    return ((c * polarities + p) * kernel + ky) * kernel + kx


def chip_commands(cfg: ChipConfig, geo: Geometry | None = None) -> list[tuple[int, int, int]]:
    """The (target, index, code) programming commands of a chip configuration, in order:
    weight cells by index, then for each channel the divider's top and bottom device.

    Raises ``ValueError`` when ``cfg`` does not fit the RTL (see :func:`check_programmable`).
    """
    check_programmable(cfg, geo)
    g = cfg.geometry
    cmds: list[tuple[int, int, int]] = []
    if cfg.weight_config in ("mdwmtj", "cmos+x"):
        sign = np.asarray(cfg.weight_sign)
        codes = np.asarray(cfg.weight_codes)
        for c, p, ky, kx in np.ndindex(*g.weight_shape):
            if sign[c, p, ky, kx] != 0:
                cmds.append((TARGET_WEIGHT, weight_index(c, p, ky, kx, g.polarities, g.kernel),
                             int(codes[c, p, ky, kx])))
    top_max = 2 ** cfg.threshold_bits - 1
    for c, code in enumerate(np.asarray(cfg.threshold_codes)):
        cmds.append((TARGET_TH_TOP, c, int(code)))
        cmds.append((TARGET_TH_BOT, c, top_max - int(code)))
    return cmds


def expected_devices(cfg: ChipConfig, geo: Geometry | None = None
                     ) -> dict[tuple[int, int], int]:
    """{(target, index): code} a correctly programmed chip of geometry ``geo`` holds."""
    return {(t, i): code for t, i, code in chip_commands(cfg, geo)}


def random_config(seed: int, weight_config: str = "cmos+x", zero_fraction: float = 0.1,
                  geo: Geometry | None = None) -> ChipConfig:
    """A random valid configuration (seeded) for the RTL geometry ``geo`` (default: the
    default chip; :func:`config_geometry`): random signs (``zero_fraction`` without a cell),
    codes over the whole range (0 and the maximum included)."""
    rng = np.random.default_rng(seed)
    tmp = ChipConfig(weight_config=weight_config, geometry=config_geometry(geo))
    shape = tmp.geometry.weight_shape
    sign = rng.choice([-1, 1], size=shape)
    sign[rng.random(shape) < zero_fraction] = 0
    wmax = 2 ** tmp.weight_bits - 1
    codes = rng.integers(0, wmax + 1, size=shape)
    codes.flat[:2] = (0, wmax)
    th = rng.integers(0, 2 ** tmp.threshold_bits, size=(tmp.geometry.channels,))
    th[:2] = (0, 2 ** tmp.threshold_bits - 1)[:th.size]
    kwargs = dict(geometry=tmp.geometry, weight_config=weight_config, weight_sign=sign,
                  weight_codes=codes, threshold_codes=th, variation_seed=seed, window_us=50)
    if weight_config == "cmos+x":
        kwargs["transistor_codes"] = rng.integers(0, 2 ** tmp.transistor_bits, size=shape)
    return ChipConfig(**kwargs)


async def program_chip(env, cfg: ChipConfig | str | Path) -> int:
    """Program every device of ``cfg`` (a ChipConfig or a path to its JSON) through the
    env's APB agent, waiting for PROG_DONE (irq) after each; returns the commands sent."""
    if not isinstance(cfg, ChipConfig):
        cfg = ChipConfig.load(cfg)
    regs = env.regs
    await regs.write("IRQ_EN", regs.value("IRQ_EN") | 1)
    cmds = chip_commands(cfg, env.geo)
    for target, index, code in cmds:
        await env.program(target, index, code, wait=True)
    return len(cmds)
