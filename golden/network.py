"""The golden spiking CNN: the P2M first layer and the backend (paper Sec. 5).

Four convolution layers in all (the first is :class:`golden.p2m_layer.P2MConv`, whose
comparator and hard reset are the in-pixel neuron), each later one followed by batch
norm, a LIF neuron and max pooling; then a linear hidden layer (512 in the paper) with a
LIF neuron and a linear classifier whose output, averaged over the T windows, is the
class score. Widths and pooling are configurable (:class:`NetConfig`) so a CPU-sized
network trains in minutes; the paper's widths are the defaults where it states them
(32 first-layer channels, stride 2; linear 512 and classes).

Shapes: counts (T, B, P, H, W) -> logits (B, classes); the first-layer spikes
(T, B, C, OH, OW) and the spike counts of every layer are kept for the metrics.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

import torch
from torch import nn

from analog_models.chip_config import WEIGHT_CONFIGS
from analog_models.fitted import F1F2
from golden import snn
from golden.p2m_layer import MODES, P2MConv


@dataclass
class NetConfig:
    """The architecture (everything a checkpoint needs to rebuild the network)."""

    sensor_height: int = 34
    sensor_width: int = 34
    polarities: int = 2
    classes: int = 10
    p2m_channels: int = 32  # paper Sec. 4: 32 channels, 3x3, stride 2
    p2m_kernel: int = 3
    p2m_stride: int = 2
    p2m_padding: int = 0  # rows/columns of no pixels around the sensor (1: 128 -> 64)
    offset_trim: bool = False  # the chip's comparators are offset-trimmed at rest
    # (analog_models.calibration): the export carries the trim, the noise no threshold term
    weight_config: str = "cmos+x"
    widths: tuple[int, ...] = (64, 128, 128)  # conv layers 2..4
    pool: tuple[bool, ...] = (True, True, True, False)  # after layers 1..4
    pool1: str = "avg"  # pooling of the first-layer spikes in the backend: "avg" or "max"
    hidden: int = 512  # paper Sec. 5: linear 512, then linear classes
    tau: float = 2.0
    threshold_init: float = 0.2
    threshold_min: float | None = None  # floor of the trained thresholds (normalized V)
    reprogram: bool = False  # first layer as fabricated: only MDWMTJ codes + thresholds train
    f2: str = "exact"  # fitted V_pre: "exact" nominal divider or the paper's "lower" bound
    extra: dict = field(default_factory=dict)

    def validate(self) -> None:
        for name in ("sensor_height", "sensor_width", "polarities", "classes", "p2m_channels",
                     "p2m_kernel", "p2m_stride", "hidden"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name}: must be a positive integer, got {v!r}")
        if self.weight_config not in WEIGHT_CONFIGS:
            raise ValueError(f"weight_config: must be one of {WEIGHT_CONFIGS}, "
                             f"got {self.weight_config!r}")
        if len(self.widths) != 3 or any(not isinstance(w, int) or w < 1 for w in self.widths):
            raise ValueError(f"widths: three positive integers (conv layers 2..4), "
                             f"got {self.widths!r}")
        if len(self.pool) != 4:
            raise ValueError(f"pool: four booleans (after layers 1..4), got {self.pool!r}")
        if self.f2 not in ("exact", "lower"):
            raise ValueError(f"f2: 'exact' or 'lower', got {self.f2!r}")
        if not isinstance(self.p2m_padding, int) or not 0 <= self.p2m_padding < self.p2m_kernel:
            raise ValueError(f"p2m_padding: an integer in [0, p2m_kernel - 1], "
                             f"got {self.p2m_padding!r}")
        if self.pool1 not in ("avg", "max"):
            raise ValueError(f"pool1: 'avg' or 'max', got {self.pool1!r}")
        if not self.tau > 1.0:
            raise ValueError(f"tau: must be > 1, got {self.tau!r}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["widths"], d["pool"] = list(self.widths), list(self.pool)
        return d

    @classmethod
    def from_dict(cls, d: dict, where: str = "arch") -> NetConfig:
        if not isinstance(d, dict):
            raise ValueError(f"{where}: must be an object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"{where}.{unknown[0]}: unknown field")
        kw = dict(d)
        for k in ("widths", "pool"):
            if k in kw:
                kw[k] = tuple(kw[k])
        cfg = cls(**kw)
        try:
            cfg.validate()
        except ValueError as exc:
            raise ValueError(f"{where}.{exc}") from None
        return cfg


class P2MNet(nn.Module):
    """P2M first layer + SNN backend (see the module docstring)."""

    def __init__(self, cfg: NetConfig, f1f2: F1F2 | None = None) -> None:
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        self.p2m = P2MConv(cfg.polarities, cfg.p2m_channels, cfg.p2m_kernel, cfg.p2m_stride,
                           cfg.weight_config, f1f2=f1f2, threshold_init=cfg.threshold_init,
                           tau=cfg.tau, reprogram=cfg.reprogram, f2=cfg.f2,
                           threshold_min=cfg.threshold_min, padding=cfg.p2m_padding,
                           offset_trim=cfg.offset_trim)
        h, w = self.p2m.output_size(cfg.sensor_height, cfg.sensor_width)
        if h < 1 or w < 1:
            raise ValueError(f"sensor {cfg.sensor_height}x{cfg.sensor_width} is smaller "
                             f"than the {cfg.p2m_kernel}x{cfg.p2m_kernel} kernel")
        self.first_shape = (cfg.p2m_channels, h, w)
        # the backend's first pooling: averaging the in-pixel neurons' spikes (the default)
        # dilutes the ones their static offsets fire; a max would pass them on
        self.pool1 = (snn.avg_pool() if cfg.pool1 == "avg" else snn.max_pool()) \
            if cfg.pool[0] else nn.Identity()
        if cfg.pool[0]:
            h, w = h // 2, w // 2
        blocks = []
        ch = cfg.p2m_channels
        for i, width in enumerate(cfg.widths):
            mods = snn.conv_bn(ch, width) + [snn.lif_node(cfg.tau)]
            if cfg.pool[i + 1]:
                mods.append(snn.max_pool())
                h, w = h // 2, w // 2
            if h < 1 or w < 1:
                raise ValueError("pool: too much pooling for this sensor size")
            blocks.append(nn.Sequential(*mods))
            ch = width
        self.blocks = nn.ModuleList(blocks)
        self.flat = snn.flatten()
        self.fc1 = snn.linear(ch * h * w, cfg.hidden)
        self.lif_fc = snn.lif_node(cfg.tau)
        self.fc2 = snn.linear(cfg.hidden, cfg.classes)
        self.last_spikes: dict[str, torch.Tensor] = {}

    @property
    def mode(self) -> str:
        return self.p2m.mode

    def set_mode(self, mode: str, noise: float | None = None,
                 quantize: bool | None = None) -> None:
        """Switch the first layer's mode (``ideal``/``fitted``/``chip``), noise, quantization."""
        if mode not in MODES:
            raise ValueError(f"mode: must be one of {MODES}, got {mode!r}")
        self.p2m.mode = mode
        if noise is not None:
            self.p2m.noise = noise
        if quantize is not None:
            self.p2m.quantize = quantize

    def forward(self, counts: torch.Tensor | None = None,
                first_spikes: torch.Tensor | None = None) -> torch.Tensor:
        """Class scores (B, classes) from window counts (T, B, P, H, W), or from given
        first-layer spikes (T, B, C, OH, OW) (the ``chip`` mode, the AER stream).
        ``self.last_spikes`` keeps each layer's spikes of this call for the metrics."""
        snn.reset_states(self)
        if first_spikes is None:
            if counts is None:
                raise ValueError("forward: give counts or first_spikes")
            s = self.p2m(counts)
        else:
            if tuple(first_spikes.shape[2:]) != self.first_shape:
                raise ValueError(f"first_spikes: expected (T, B, {self.first_shape}), got "
                                 f"{tuple(first_spikes.shape)}")
            s = first_spikes
        spikes = {"p2m": s}
        x = self.pool1(s)
        for i, block in enumerate(self.blocks):
            x = block(x)
            spikes[f"conv{i + 2}"] = x
        x = self.lif_fc(self.fc1(self.flat(x)))
        spikes["fc1"] = x
        self.last_spikes = spikes
        return self.fc2(x).mean(0)

    @torch.no_grad()
    def constrain_(self) -> None:
        """Keep the first layer inside its programmable range (after optimizer steps)."""
        self.p2m.constrain_()
