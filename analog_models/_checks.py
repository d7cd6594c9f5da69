"""Input checks shared by the analog models: a bad argument raises ``ValueError`` naming it."""

from __future__ import annotations

import numpy as np


def _first_bad(a: np.ndarray, bad: np.ndarray) -> str:
    idx = np.argwhere(bad)[0] if a.ndim else ()
    val = (a[tuple(idx)] if a.ndim else a[()]).item()
    where = f"[{', '.join(str(int(i)) for i in idx)}]" if a.ndim else ""
    return f"{where} = {val!r}"


def as_float_array(name: str, value, *, nonneg: bool = True, finite: bool = True) -> np.ndarray:
    """``value`` as a float64 array; ``ValueError`` naming ``name`` and the offending value."""
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: must be numeric, got {value!r}") from None
    if finite and not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: must be finite, got {name}{_first_bad(a, ~np.isfinite(a))}")
    if nonneg and np.any(a < 0):
        raise ValueError(f"{name}: must be >= 0, got {name}{_first_bad(a, a < 0)}")
    return a


def in_range(name: str, a: np.ndarray, lo: float, hi: float) -> None:
    """``ValueError`` naming ``name`` if any element is outside [lo, hi]."""
    bad = (a < lo) | (a > hi)
    if np.any(bad):
        raise ValueError(f"{name}: must lie in [{lo}, {hi}], got {name}{_first_bad(a, bad)}")


def broadcast(name: str, a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``a`` broadcast to ``shape``; ``ValueError`` naming ``name`` when it does not fit."""
    try:
        return np.broadcast_to(a, shape)
    except ValueError:
        raise ValueError(f"{name}: shape {a.shape} does not match the array shape {shape}") from None


def check_seed(seed) -> None:
    """``ValueError`` unless ``seed`` is a non-negative integer (bool refused)."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed: must be a non-negative integer, got {seed!r}")


def as_int_array(name: str, value) -> np.ndarray:
    """``value`` as an int64 array (integers only); ``ValueError`` naming ``name``."""
    a = np.asarray(value)
    if a.dtype == bool or not (np.issubdtype(a.dtype, np.integer) or a.size == 0):
        if np.issubdtype(a.dtype, np.floating) and np.all(np.isfinite(a)) and np.all(a == np.round(a)):
            return a.astype(np.int64)
        raise ValueError(f"{name}: must hold integers, got dtype {a.dtype} ({value!r:.80})")
    return a.astype(np.int64)
