"""The chip configuration: one versioned file with everything programmed into a chip.

Design contract ("Contracts: Chip configuration", ../shared/design.md): the golden model
exports it, the testbench programs it through APB, and the analog bridge and the golden
model both build the same chip instance (same static variation) from it.

File format: JSON, ``{"schema": "p2m-chip-config", "version": 1, ...}``. Arrays are
nested lists of integers. Shapes (C channels, P polarities, K kernel):

- ``weight_sign``      (C, P, K, K) int in {-1, 0, +1}: which accumulator the weight
  cell drives (+1 positive, -1 negative, 0 no cell). Fixed at fabrication (the
  transistor and its wiring), so reprogramming keeps it.
- ``weight_codes``     (C, P, K, K) int in [0, 2**weight_bits - 1]: the magnitude code.
  ``cmos``: transistor width code (fixed at fabrication). ``mdwmtj`` and ``cmos+x``:
  the programmable MDWMTJ code, written as one reset pulse then ``code`` set pulses.
- ``transistor_codes`` (C, P, K, K) int in [0, 2**transistor_bits - 1]: ``cmos+x``
  only, the fabricated transistor width code in series with the weight MDWMTJ.
- ``threshold_codes``  (C,) int in [0, 2**threshold_bits - 1]: per-channel
  (kernel-dependent, paper Sec. 4) code of the threshold divider's MDWMTJs.
- ``comparator_trim``  (C, OH, OW) int, optional: each neuron's comparator offset-trim
  code (signed, ``circuit.comparator_trim_bits`` of ``circuit.comparator_trim_lsb``
  volts each), found by a calibration at rest (``analog_models.calibration``) and held
  with the chip (as production-test trims are, in fuses); absent: no trim (0).
- ``window_us``: integration window length in microseconds.
- ``variation_seed``: seed of the static (per chip instance) variation;
  ``variation``: "paper" (3-sigma mismatch, 20 % MDWMTJ R, 10 % pulse jitter) or "none".

A file that does not validate raises ``ChipConfigError`` naming the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

SCHEMA = "p2m-chip-config"
VERSION = 1
WEIGHT_CONFIGS = ("cmos", "mdwmtj", "cmos+x")
VARIATIONS = ("paper", "none")


class ChipConfigError(ValueError):
    """A chip configuration that does not validate; the message names the field."""


@dataclass(frozen=True)
class Geometry:
    """Sensor and first-layer geometry (defaults: the paper, 34x34 N-MNIST sensor)."""

    sensor_height: int = 34
    sensor_width: int = 34
    polarities: int = 2
    channels: int = 32  # paper Sec. 4: 32 channels, stride 2 in the first layer
    kernel: int = 3  # paper Fig. 2(b), 3x3 kernel
    stride: int = 2
    #: rows/columns of no pixels around the sensor (a convolution's zero padding): the
    #: windows of the edge neurons hang over the edge, their cells there never see an
    #: event. 0 (the paper's 34 -> 16); 1 makes a 128 x 128 sensor 64 x 64 neurons
    padding: int = 0

    @property
    def out_height(self) -> int:
        """Output rows: (H + 2 padding - K) // S + 1."""
        return (self.sensor_height + 2 * self.padding - self.kernel) // self.stride + 1

    @property
    def out_width(self) -> int:
        """Output columns: (W + 2 padding - K) // S + 1."""
        return (self.sensor_width + 2 * self.padding - self.kernel) // self.stride + 1

    @property
    def weight_shape(self) -> tuple[int, int, int, int]:
        return (self.channels, self.polarities, self.kernel, self.kernel)

    @property
    def neuron_shape(self) -> tuple[int, int, int]:
        """(C, OH, OW): one positive and one negative accumulator per neuron."""
        return (self.channels, self.out_height, self.out_width)

    def validate(self) -> None:
        for name in ("sensor_height", "sensor_width", "polarities", "channels", "kernel", "stride"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                raise ChipConfigError(f"geometry.{name}: must be a positive integer, got {v!r}")
        if self.polarities not in (1, 2):
            raise ChipConfigError(f"geometry.polarities: must be 1 or 2, got {self.polarities}")
        pad = self.padding
        if not isinstance(pad, (int, np.integer)) or isinstance(pad, bool) \
                or not 0 <= pad < self.kernel:
            raise ChipConfigError(f"geometry.padding: must be an integer in [0, kernel - 1 = "
                                  f"{self.kernel - 1}], got {pad!r}")
        if self.kernel > min(self.sensor_height, self.sensor_width) + 2 * pad:
            raise ChipConfigError(
                f"geometry.kernel: {self.kernel} is larger than the sensor "
                f"{self.sensor_height}x{self.sensor_width} (padding {pad})"
            )


@dataclass
class ChipConfig:
    """Everything programmed into one chip instance (see the module docstring)."""

    geometry: Geometry = field(default_factory=Geometry)
    weight_config: str = "cmos+x"
    device_preset: str = "paper2024"
    weight_bits: int = 4
    transistor_bits: int = 4
    threshold_bits: int = 6
    weight_sign: np.ndarray | None = None
    weight_codes: np.ndarray | None = None
    transistor_codes: np.ndarray | None = None
    threshold_codes: np.ndarray | None = None
    comparator_trim: np.ndarray | None = None
    window_us: int = 10_000
    variation: str = "paper"
    variation_seed: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        g = self.geometry
        shape = g.weight_shape
        if self.weight_sign is None:
            self.weight_sign = np.zeros(shape, dtype=np.int8)
        if self.weight_codes is None:
            self.weight_codes = np.zeros(shape, dtype=np.int64)
        if self.transistor_codes is None and self.weight_config == "cmos+x":
            self.transistor_codes = np.zeros(shape, dtype=np.int64)
        if self.threshold_codes is None:
            self.threshold_codes = np.zeros((g.channels,), dtype=np.int64)
        self.weight_sign = np.asarray(self.weight_sign)
        self.weight_codes = np.asarray(self.weight_codes)
        self.threshold_codes = np.asarray(self.threshold_codes)
        if self.transistor_codes is not None:
            self.transistor_codes = np.asarray(self.transistor_codes)
        self.validate()

    # ------------------------------------------------------------------ checks
    def validate(self) -> None:
        """Raise ``ChipConfigError`` naming the first field that is wrong."""
        self.geometry.validate()
        g = self.geometry
        if self.weight_config not in WEIGHT_CONFIGS:
            raise ChipConfigError(
                f"weight_config: must be one of {WEIGHT_CONFIGS}, got {self.weight_config!r}"
            )
        if self.variation not in VARIATIONS:
            raise ChipConfigError(f"variation: must be one of {VARIATIONS}, got {self.variation!r}")
        for name, lo, hi in (("weight_bits", 1, 16), ("transistor_bits", 1, 16),
                             ("threshold_bits", 1, 16)):
            _check_int(name, getattr(self, name), lo, hi)
        _check_int("window_us", self.window_us, 1, 10**9)
        _check_int("variation_seed", self.variation_seed, 0, 2**63 - 1)
        # lazily: the preset registry is a sibling module that may grow imports of its own
        from analog_models.presets import PRESETS

        if not isinstance(self.device_preset, str) or self.device_preset not in PRESETS:
            raise ChipConfigError(
                f"device_preset: unknown preset {self.device_preset!r}, known: {sorted(PRESETS)}"
            )
        _check_array("weight_sign", self.weight_sign, g.weight_shape, -1, 1)
        _check_array("weight_codes", self.weight_codes, g.weight_shape, 0, 2**self.weight_bits - 1)
        if self.weight_config == "cmos+x":
            if self.transistor_codes is None:
                raise ChipConfigError("transistor_codes: required for weight_config 'cmos+x'")
            _check_array("transistor_codes", self.transistor_codes, g.weight_shape, 0,
                         2**self.transistor_bits - 1)
        elif self.transistor_codes is not None:
            raise ChipConfigError(
                f"transistor_codes: only for weight_config 'cmos+x', not {self.weight_config!r}"
            )
        _check_array("threshold_codes", self.threshold_codes, (g.channels,), 0,
                     2**self.threshold_bits - 1)
        if self.comparator_trim is not None:
            self.comparator_trim = np.asarray(self.comparator_trim)
            half = 2 ** (PRESETS[self.device_preset].circuit.comparator_trim_bits - 1)
            _check_array("comparator_trim", self.comparator_trim, g.neuron_shape, -half,
                         half - 1)
        if not isinstance(self.meta, dict):
            raise ChipConfigError(f"meta: must be an object, got {type(self.meta).__name__}")

    @property
    def signed_weight_codes(self) -> np.ndarray:
        """``weight_sign * weight_codes``, int64 (C, P, K, K)."""
        return self.weight_sign.astype(np.int64) * self.weight_codes.astype(np.int64)

    # ------------------------------------------------------------------ I/O
    def to_dict(self) -> dict[str, Any]:
        g = self.geometry
        d: dict[str, Any] = {
            "schema": SCHEMA,
            "version": VERSION,
            "geometry": {
                "sensor_height": int(g.sensor_height),
                "sensor_width": int(g.sensor_width),
                "polarities": int(g.polarities),
                "channels": int(g.channels),
                "kernel": int(g.kernel),
                "stride": int(g.stride),
                # written only when used, so files without it stay readable by older benches
                **({"padding": int(g.padding)} if g.padding else {}),
            },
            "weight_config": self.weight_config,
            "device_preset": self.device_preset,
            "weight_bits": int(self.weight_bits),
            "transistor_bits": int(self.transistor_bits),
            "threshold_bits": int(self.threshold_bits),
            "weight_sign": self.weight_sign.astype(int).tolist(),
            "weight_codes": self.weight_codes.astype(int).tolist(),
            "threshold_codes": self.threshold_codes.astype(int).tolist(),
            "window_us": int(self.window_us),
            "variation": self.variation,
            "variation_seed": int(self.variation_seed),
            "meta": self.meta,
        }
        if self.transistor_codes is not None:
            d["transistor_codes"] = self.transistor_codes.astype(int).tolist()
        if self.comparator_trim is not None:
            d["comparator_trim"] = self.comparator_trim.astype(int).tolist()
        return d

    @classmethod
    def from_dict(cls, d: Any) -> ChipConfig:
        if not isinstance(d, dict):
            raise ChipConfigError(f"(root): must be a JSON object, got {type(d).__name__}")
        if d.get("schema") != SCHEMA:
            raise ChipConfigError(f"schema: must be {SCHEMA!r}, got {d.get('schema')!r}")
        if d.get("version") != VERSION:
            raise ChipConfigError(
                f"version: this bench reads version {VERSION}, got {d.get('version')!r}"
            )
        known = {"schema", "version"} | {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ChipConfigError(f"{unknown[0]}: unknown field")
        geo = d.get("geometry")
        if not isinstance(geo, dict):
            raise ChipConfigError("geometry: missing or not an object")
        try:
            geometry = Geometry(**geo)
        except TypeError as exc:
            raise ChipConfigError(f"geometry: {exc}") from None
        kwargs: dict[str, Any] = {"geometry": geometry}
        for name in ("weight_config", "device_preset", "weight_bits", "transistor_bits",
                     "threshold_bits", "window_us", "variation", "variation_seed", "meta"):
            if name in d:
                kwargs[name] = d[name]
        for name in ("weight_sign", "weight_codes", "transistor_codes", "threshold_codes",
                     "comparator_trim"):
            if name in d:
                kwargs[name] = _to_int_array(name, d[name])
        return cls(**kwargs)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n")
        return path

    @classmethod
    def load(cls, path: str | Path) -> ChipConfig:
        path = Path(path)
        try:
            text = path.read_bytes().decode("utf-8")
        except OSError as exc:  # missing file, a directory, no permission, ...
            raise ChipConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise ChipConfigError(
                f"{path}: not a text (UTF-8) file: undecodable byte at offset {exc.start}"
            ) from None
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ChipConfigError(f"{path}: not valid JSON at byte {exc.pos}: {exc.msg}") from None
        try:
            return cls.from_dict(d)
        except ChipConfigError as exc:
            raise ChipConfigError(f"{path}: {exc}") from None


def _check_int(name: str, v: Any, lo: int, hi: int) -> None:
    if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or not lo <= v <= hi:
        raise ChipConfigError(f"{name}: must be an integer in [{lo}, {hi}], got {v!r}")


def _to_int_array(name: str, v: Any) -> np.ndarray:
    try:
        a = np.asarray(v)
    except ValueError:
        raise ChipConfigError(f"{name}: ragged nested list") from None
    if a.size and not np.issubdtype(a.dtype, np.integer):
        raise ChipConfigError(f"{name}: must hold integers, got dtype {a.dtype}")
    return a.astype(np.int64)


def _check_array(name: str, a: np.ndarray, shape: tuple[int, ...], lo: int, hi: int) -> None:
    if a.shape != tuple(shape):
        raise ChipConfigError(f"{name}: shape must be {tuple(shape)}, got {a.shape}")
    if a.size and not np.issubdtype(a.dtype, np.integer):
        raise ChipConfigError(f"{name}: must hold integers, got dtype {a.dtype}")
    if a.size and (a.min() < lo or a.max() > hi):
        bad = np.argwhere((a < lo) | (a > hi))[0]
        raise ChipConfigError(
            f"{name}{list(map(int, bad))}: {int(a[tuple(bad)])} outside [{lo}, {hi}]"
        )
