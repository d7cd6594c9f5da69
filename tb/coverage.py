"""Functional coverage: a small covergroup / coverpoint / cross module.

cocotb-coverage 1.2 (the PyPI release) targets cocotb 1.x; this module gives the few features
the testbenches need without it: named coverpoints with explicit bins (values, ranges or
predicates), crosses of two coverpoints, hit counts, a per-group and total percentage, a text
report printed at the end of a test and a JSON dump (``coverage_<test>.json`` in the build dir).

Bins: a bin is ``(label, matcher)`` where matcher is an int (equality), a ``(lo, hi)``
inclusive range, or a callable ``value -> bool``. A sampled value lands in the first bin that
matches; values matching no bin are counted as ``(other)`` and do not add coverage.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

Matcher = int | tuple[int, int] | Callable[[Any], bool]


def _match(m: Matcher, v: Any) -> bool:
    if callable(m):
        return bool(m(v))
    if isinstance(m, tuple):
        return m[0] <= v <= m[1]
    return v == m


class Coverpoint:
    """One coverpoint: ordered bins and their hit counts."""

    def __init__(self, name: str, bins: Sequence[tuple[str, Matcher]]) -> None:
        if not bins:
            raise ValueError(f"bins: coverpoint {name!r} needs at least one bin")
        self.name = name
        self.bins = list(bins)
        self.hits = {label: 0 for label, _ in self.bins}
        self.other = 0

    def bin_of(self, v: Any) -> str | None:
        for label, m in self.bins:
            if _match(m, v):
                return label
        return None

    def sample(self, v: Any) -> str | None:
        label = self.bin_of(v)
        if label is None:
            self.other += 1
        else:
            self.hits[label] += 1
        return label

    @property
    def covered(self) -> int:
        return sum(1 for h in self.hits.values() if h)

    @property
    def total(self) -> int:
        return len(self.hits)


class Cross:
    """Cross of two coverpoints: every pair of their bins is a cross bin."""

    def __init__(self, name: str, a: Coverpoint, b: Coverpoint) -> None:
        self.name, self.a, self.b = name, a, b
        self.hits = {(x, y): 0 for x in a.hits for y in b.hits}

    def sample(self, va: Any, vb: Any) -> None:
        la, lb = self.a.bin_of(va), self.b.bin_of(vb)
        if la is not None and lb is not None:
            self.hits[(la, lb)] += 1

    @property
    def covered(self) -> int:
        return sum(1 for h in self.hits.values() if h)

    @property
    def total(self) -> int:
        return len(self.hits)


class Covergroup:
    """A named set of coverpoints and crosses."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.points: dict[str, Coverpoint] = {}
        self.crosses: dict[str, Cross] = {}

    def point(self, name: str, bins: Sequence[tuple[str, Matcher]]) -> Coverpoint:
        """The coverpoint ``name`` (created on first use; later calls return it unchanged,
        so hits accumulate over the tests of one module)."""
        if name in self.points:
            return self.points[name]
        cp = Coverpoint(name, bins)
        self.points[name] = cp
        return cp

    def cross(self, name: str, a: str, b: str) -> Cross:
        if name in self.crosses:
            return self.crosses[name]
        cr = Cross(name, self.points[a], self.points[b])
        self.crosses[name] = cr
        return cr

    def sample(self, name: str, value: Any) -> None:
        self.points[name].sample(value)

    def items(self) -> Iterable[Coverpoint | Cross]:
        yield from self.points.values()
        yield from self.crosses.values()

    @property
    def percent(self) -> float:
        tot = sum(i.total for i in self.items())
        return 100.0 * sum(i.covered for i in self.items()) / tot if tot else 100.0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"percent": round(self.percent, 2), "points": {}}
        for it in self.items():
            out["points"][it.name] = {
                "covered": it.covered, "total": it.total,
                "hits": {(k if isinstance(k, str) else " x ".join(k)): v
                         for k, v in it.hits.items()},
            }
        return out

    def report(self) -> str:
        lines = [f"covergroup {self.name}: {self.percent:.1f} %"]
        for it in self.items():
            missing = [k if isinstance(k, str) else " x ".join(k)
                       for k, v in it.hits.items() if not v]
            lines.append(f"  {it.name:<28} {it.covered:>4}/{it.total:<4}"
                         + (f" missing: {', '.join(missing[:8])}"
                            + (" ..." if len(missing) > 8 else "") if missing else ""))
        return "\n".join(lines)


def burst_bins() -> list[tuple[str, Matcher]]:
    """Bins of spikes per channel readout (a burst on the AER bus)."""
    return [("0", 0), ("1", 1), ("2-7", (2, 7)), ("8-31", (8, 31)), ("32-127", (32, 127)),
            ("128-255", (128, 255)), ("256 (full)", 256)]


def ack_delay_bins() -> list[tuple[str, Matcher]]:
    """Bins of the receiver's acknowledge delay (ns): backpressure levels."""
    return [("0 ns", 0), ("1-9 ns", (1, 9)), ("10-99 ns", (10, 99)), ("100-999 ns", (100, 999)),
            ("stall >= 1 us", (1000, 10**9))]


class CoverageDB:
    """The covergroups of one test run (module-level singleton: ``DB``)."""

    def __init__(self) -> None:
        self.groups: dict[str, Covergroup] = {}

    def group(self, name: str) -> Covergroup:
        if name not in self.groups:
            self.groups[name] = Covergroup(name)
        return self.groups[name]

    def clear(self) -> None:
        self.groups.clear()

    def report(self) -> str:
        return "\n".join(g.report() for g in self.groups.values())

    def dump(self, path: str | Path | None = None) -> Path | None:
        """Write the JSON report (default: ``$P2M_BUILD_DIR/coverage_<test>.json``)."""
        if path is None:
            bdir = os.environ.get("P2M_BUILD_DIR")
            if not bdir:
                return None
            path = Path(bdir) / f"coverage_{os.environ.get('P2M_TEST', 'sim')}.json"
        path = Path(path)
        old: dict[str, Any] = {}
        if path.is_file():
            try:
                old = json.loads(path.read_text())
            except (OSError, json.JSONDecodeError):
                old = {}
        old.update({name: g.to_dict() for name, g in self.groups.items()})
        path.write_text(json.dumps(old, indent=1) + "\n")
        return path


DB = CoverageDB()
