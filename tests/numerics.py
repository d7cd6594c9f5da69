"""Comparing numbers that were computed along different numerical paths.

A committed file against a fresh run, numpy against torch, one BLAS build or CPU against
another: such results agree to rounding noise, not bit for bit (a least-squares fit gives a
different last digit on another CPU, measured: 1.693829793251655 vs 1.6938297932516548).
They are compared here with a relative tolerance far above rounding noise and far below
any physical effect. Exact equality stays for what is exact by construction (integer DW
ticks, event and spike counts, strings, the batch path against the per-event reference).

Measured (issue 7): the committed default characterization against fresh runs on an AMD
EPYC (numpy 2.4 / OpenBLAS 0.3.31, 1 and 2 BLAS threads) and against numpy 1.26 differs by
at most 1.2e-14 relative: ``REL_TOL`` = 1e-9 leaves five orders of magnitude of headroom.
``ABS_TOL`` is the floor for quantities that are zero up to rounding (1e-12 of a
normalized position, a volt or an ampere-scale quantity expressed in its unit is far below
anything the models resolve).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: Relative tolerance for numbers computed along different numerical paths.
REL_TOL = 1e-9
#: Absolute floor for values that are zero up to rounding.
ABS_TOL = 1e-12


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def tree_mismatches(actual: Any, expected: Any, rel: float = REL_TOL, abs_: float = ABS_TOL,
                    path: str = "$") -> list[str]:
    """Every place where two JSON-like trees (dicts, lists, numbers, strings, None, numpy
    arrays) differ, as ``path: actual != expected`` lines. Floats compare within
    ``rel``/``abs_`` (``math.isclose``); ints, bools, strings and None exactly; keys and
    lengths exactly."""
    out: list[str] = []
    if isinstance(actual, np.ndarray) or isinstance(expected, np.ndarray):
        actual, expected = np.asarray(actual).tolist(), np.asarray(expected).tolist()
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: {type(actual).__name__} != dict"]
        if set(actual) != set(expected):
            extra, missing = sorted(set(actual) - set(expected)), sorted(set(expected) - set(actual))
            out.append(f"{path}: keys differ (extra {extra}, missing {missing})")
        for k in sorted(set(actual) & set(expected), key=str):
            out += tree_mismatches(actual[k], expected[k], rel, abs_, f"{path}.{k}")
        return out
    if isinstance(expected, (list, tuple)):
        if not isinstance(actual, (list, tuple)) or len(actual) != len(expected):
            return [f"{path}: length {len(actual) if isinstance(actual, (list, tuple)) else '-'}"
                    f" != {len(expected)}"]
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            out += tree_mismatches(a, e, rel, abs_, f"{path}[{i}]")
        return out
    if _is_num(actual) and _is_num(expected) and (isinstance(actual, (float, np.floating))
                                                  or isinstance(expected, (float, np.floating))):
        if not math.isclose(float(actual), float(expected), rel_tol=rel, abs_tol=abs_):
            out.append(f"{path}: {actual!r} != {expected!r} (rel {rel}, abs {abs_})")
        return out
    if actual != expected or type(actual) is not type(expected) and not (
            _is_num(actual) and _is_num(expected)):
        out.append(f"{path}: {actual!r} != {expected!r}")
    return out


def assert_tree_close(actual: Any, expected: Any, rel: float = REL_TOL,
                      abs_: float = ABS_TOL) -> None:
    """``AssertionError`` listing (up to 20) places where the trees differ beyond tolerance."""
    bad = tree_mismatches(actual, expected, rel, abs_)
    if bad:
        more = f"\n... and {len(bad) - 20} more" if len(bad) > 20 else ""
        raise AssertionError(f"{len(bad)} mismatches:\n" + "\n".join(bad[:20]) + more)
