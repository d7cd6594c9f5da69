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

DEFAULT_FILE = "f1f2_paper2024.json"
#: The f1/f2 document: ``schema`` and ``version`` fields (written by
#: :func:`analog_models.characterization.build_f1f2_json`).
SCHEMA = "p2m-f1f2"
VERSION = 2  # 2: strict JSON (null, no NaN), f2 MC statistics, per-run Fig. 4


def poly_eval_origin(coeffs: list[float], x: np.ndarray) -> np.ndarray:
    """Evaluate ``sum_k c_k x^k, k = 1..len(coeffs)`` (a polynomial through the origin, as
    the f1/f2 fits store them); ``x`` any shape, result the same shape."""
    x = np.asarray(x, dtype=np.float64)
    return sum(c * x ** (k + 1) for k, c in enumerate(coeffs))


@dataclass(frozen=True)
class F1F2:
    """Fitted curves of one characterization run (``doc``: the parsed JSON)."""

    doc: dict[str, Any]

    def _cfg(self, config: str) -> dict[str, Any]:
        if config not in self.doc["f1"]:
            raise ValueError(f"config: must be one of {sorted(self.doc['f1'])}, got {config!r}")
        return self.doc["f1"][config]

    def f1(self, x: np.ndarray, config: str = "cmos+x") -> np.ndarray:
        """Median normalized DW position for normalized input x weight ``x`` (clipped to [0, 1]).

        ``x = sum_k w_k / n_fs`` with the CODE-LINEAR weights ``w = m/15``: the paper-style
        one-variable fit over all weight levels. It is not exact per weight: an event of
        weight ``w`` moves the wall by ``g(w) / n_fs``, and ``g`` is not ``w`` (MDWMTJ:
        ``g(0) = 0.27``, its low dynamic range). A golden model of the device maps every
        weight through :meth:`g` and uses :meth:`d_norm` instead."""
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

    def d_norm(self, weights: np.ndarray, counts: np.ndarray | None = None,
               config: str = "cmos+x") -> np.ndarray:
        """Nominal normalized DW position after events of code-linear ``weights`` (0..1):
        ``min(sum g(w) * counts / n_fs, 1)``, summed over the LAST axis (``counts``: events
        per weight, default 1 each). What golden should use for the MAC: the wall moves by
        ``g(w) / n_fs`` per event, independently of its position (exact at the nominal
        corner up to the cubic fit of ``g``); add ``f1_sigma`` noise for variation."""
        w = np.asarray(weights, dtype=np.float64)
        if np.any(~np.isfinite(w)) or np.any(w < 0) or np.any(w > 1):
            raise ValueError("weights: must be finite and lie in [0, 1]")
        inc = self.g(w, config)
        if counts is not None:
            n = np.asarray(counts, dtype=np.float64)
            if np.any(~np.isfinite(n)) or np.any(n < 0):
                raise ValueError("counts: must be finite and >= 0")
            inc = inc * n
        return np.minimum(np.sum(inc, axis=-1) / self.n_fs(config), 1.0)

    def n_fs(self, config: str = "cmos+x") -> float:
        """Full-scale events that fill the track (nominal corner)."""
        return float(self._cfg(config)["n_fs"])

    def f2(self, d_diff: np.ndarray, lower: bool = True, mc: bool = False) -> np.ndarray:
        """Normalized V_pre for ``d_diff = d_pos - d_neg`` in [-1, 1].

        ``lower=True`` (default, the paper's choice and what golden uses): the worst-case
        LOWER BOUND of the non-linearity over the (d_pos, d_neg) combinations with that
        difference, nominal devices (the paper's 11.38 %). ``lower=False``: the Monte Carlo
        median. ``mc=True`` (with ``lower``): the lower envelope over all Monte Carlo
        instances too (20 % R variation; a 3-sigma corner at every point, much more
        pessimistic than the paper's bound: use :meth:`f2_sigma` for variation instead)."""
        d = _d_diff(d_diff)
        f = self.doc["f2"]
        # piecewise-linear through the tabulated curve (exact at the grid, no overshoot);
        # the polynomial fits f2_lower / f2_median are in the JSON for reference
        if lower:
            table = f["lower"] if mc else f["nominal_lower"]
        else:
            table = f["median"]
        return np.interp(d, f["d_diff"], table)

    def f2_sigma(self, d_diff: np.ndarray) -> np.ndarray:
        """Std of normalized V_pre over combinations and Monte Carlo instances (20 % R
        variation of both accumulators) at ``d_diff``."""
        d = _d_diff(d_diff)
        f = self.doc["f2"]
        return np.interp(d, f["d_diff"], f["std_mc"])

    def threshold_norm(self, code: np.ndarray) -> np.ndarray:
        """Normalized V_th (same units as :meth:`f2`) of threshold codes (6-bit default)."""
        lv = np.asarray(self.doc["threshold_levels"]["v_norm"])
        code = np.asarray(code)
        if np.any(code < 0) or np.any(code >= lv.size):
            raise ValueError(f"code: threshold codes must lie in [0, {lv.size - 1}]")
        return lv[code]


class _NonStrictJSON(Exception):
    pass


def _d_diff(d_diff) -> np.ndarray:
    """``d_diff`` as a float array; ``ValueError`` unless finite and in [-1, 1]."""
    d = np.asarray(d_diff, dtype=np.float64)
    if np.any(~np.isfinite(d)) or np.any(np.abs(d) > 1):
        raise ValueError("d_diff: must be finite and lie in [-1, 1]")
    return d


def _reject_constant(name: str) -> None:
    """``json.loads`` hook: NaN / Infinity / -Infinity are not JSON (RFC 8259)."""
    raise _NonStrictJSON(name)


def load_f1f2(path: str | Path | None = None) -> F1F2:
    """Load f1/f2 from ``path`` (default: the committed package data); validates the schema."""
    if path is None:
        text = resources.files("analog_models").joinpath("data", DEFAULT_FILE).read_text()
        where = f"analog_models/data/{DEFAULT_FILE}"
    else:
        text = Path(path).read_text()
        where = str(path)
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where}: not valid JSON at byte {exc.pos}: {exc.msg}") from None
    except _NonStrictJSON as exc:
        raise ValueError(f"{where}: not strict JSON: {exc.args[0]} (use null)") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise ValueError(f"{where}: schema must be {SCHEMA!r}")
    if doc.get("version") != VERSION:
        raise ValueError(f"{where}: version must be {VERSION}, got {doc.get('version')!r}")
    for key in ("f1", "f2", "threshold_levels"):
        if key not in doc:
            raise ValueError(f"{where}: missing field {key!r}")
    return F1F2(doc)
