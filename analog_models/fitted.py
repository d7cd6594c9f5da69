"""The fitted behavioural curves f1 and f2 (the golden model's view of the analog array).

``load_f1f2()`` reads the committed default (``analog_models/data/f1f2_paper2024.json``,
written by ``p2m characterize`` with 1,000 instances, seed 0) or any file that
:func:`analog_models.characterization.run_characterization` wrote. See the JSON's
``definitions`` for the exact meaning of every curve.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from analog_models.characterization import SCHEMA, VERSION, poly_eval_origin

DEFAULT_FILE = "f1f2_paper2024.json"


@dataclass(frozen=True)
class F1F2:
    """Fitted curves of one characterization run (``doc``: the parsed JSON)."""

    doc: dict[str, Any]

    def _cfg(self, config: str) -> dict[str, Any]:
        if config not in self.doc["f1"]:
            raise ValueError(f"config: must be one of {sorted(self.doc['f1'])}, got {config!r}")
        return self.doc["f1"][config]

    def f1(self, x: np.ndarray, config: str = "cmos+x") -> np.ndarray:
        """Median normalized DW position for normalized input x weight ``x`` (clipped to [0, 1])."""
        x = np.asarray(x, dtype=np.float64)
        if np.any(~np.isfinite(x)) or np.any(x < 0):
            raise ValueError("x: must be finite and >= 0")
        return np.clip(poly_eval_origin(self._cfg(config)["f1"], np.asarray(x)), 0.0, 1.0)

    def f1_sigma(self, x: np.ndarray, config: str = "cmos+x") -> np.ndarray:
        """Standard deviation of the normalized DW position at ``x`` (>= 0)."""
        return np.maximum(poly_eval_origin(self._cfg(config)["sigma"], np.asarray(x)), 0.0)

    def g(self, w: np.ndarray, config: str = "cmos+x") -> np.ndarray:
        """Per-event increment of a weight ``w`` (code-linear, 0..1) over the full-scale one."""
        c = self._cfg(config)["g_fit"]
        return np.maximum(c[0] + poly_eval_origin(c[1:], np.asarray(w)), 0.0)

    def n_fs(self, config: str = "cmos+x") -> float:
        """Full-scale events that fill the track (nominal corner)."""
        return float(self._cfg(config)["n_fs"])

    def f2(self, d_diff: np.ndarray, lower: bool = True) -> np.ndarray:
        """Normalized V_pre for ``d_diff = d_pos - d_neg`` in [-1, 1]: the worst-case lower
        bound (``lower``, the paper's choice) or the median."""
        d = np.asarray(d_diff, dtype=np.float64)
        if np.any(~np.isfinite(d)) or np.any(np.abs(d) > 1):
            raise ValueError("d_diff: must be finite and lie in [-1, 1]")
        f = self.doc["f2"]
        # piecewise-linear through the tabulated curve (exact at the grid, no overshoot);
        # the polynomial fits f2_lower / f2_median are in the JSON for reference
        table = f["nominal_lower"] if lower else f["median"]
        return np.interp(d, f["d_diff"], table)

    def threshold_norm(self, code: np.ndarray) -> np.ndarray:
        """Normalized V_th (same units as :meth:`f2`) of threshold codes (6-bit default)."""
        lv = np.asarray(self.doc["threshold_levels"]["v_norm"])
        code = np.asarray(code)
        if np.any(code < 0) or np.any(code >= lv.size):
            raise ValueError(f"code: threshold codes must lie in [0, {lv.size - 1}]")
        return lv[code]


def load_f1f2(path: str | Path | None = None) -> F1F2:
    """Load f1/f2 from ``path`` (default: the committed package data); validates the schema."""
    if path is None:
        text = resources.files("analog_models").joinpath("data", DEFAULT_FILE).read_text()
        where = f"analog_models/data/{DEFAULT_FILE}"
    else:
        text = Path(path).read_text()
        where = str(path)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where}: not valid JSON at byte {exc.pos}: {exc.msg}") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise ValueError(f"{where}: schema must be {SCHEMA!r}")
    if doc.get("version") != VERSION:
        raise ValueError(f"{where}: version must be {VERSION}, got {doc.get('version')!r}")
    for key in ("f1", "f2", "threshold_levels"):
        if key not in doc:
            raise ValueError(f"{where}: missing field {key!r}")
    return F1F2(doc)
