"""Functional coverage: a small covergroup / coverpoint / cross module.

cocotb-coverage 2.0 works with cocotb 2.1 but samples about 3.6x slower (docs/verification.md
"Libraries", measured); this module gives the few features the testbenches need: named coverpoints with explicit bins (values, ranges or
predicates), crosses of two coverpoints, hit counts, a per-group and total percentage, a text
report printed at the end of a test and a JSON dump (``coverage_<test>.json`` in the build dir).

Bins: a bin is ``(label, matcher)`` where matcher is an int (equality), a ``(lo, hi)``
inclusive range, or a callable ``value -> bool``. A sampled value lands in the first bin that
matches; values matching no bin are counted as ``(other)`` and do not add coverage.

Bins that the design cannot reach are dropped through :data:`IGNORE_BINS` (one table, each
entry justified): they are neither counted nor reported, and the merge drops them too.

Merge (closure over the regression)::

    python -m tb.coverage merge sim_build/*/coverage_*.json [--json OUT] [--fail-under PCT]

sums the hits of every bin over the given JSON dumps and prints per covergroup the covered /
total bins and percentage, the holes, and the total against the closure goal
(:data:`CLOSURE_GOAL` = 100 % of the bins left after IGNORE_BINS, over the five test modules
of the regression; ``tb/testplan.md``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

Matcher = int | tuple[int, int] | Callable[[Any], bool]

#: Closure goal (percent of the bins left after IGNORE_BINS, merged over the regression).
CLOSURE_GOAL = 100.0

#: Bins the design cannot reach: {(covergroup, coverpoint or cross): {bin label: why}}.
IGNORE_BINS: dict[tuple[str, str], dict[str, str]] = {
    ("programming", "target x code"): {
        f"threshold {side} x {code}": (
            "threshold dividers are 6-bit (ChipConfig.threshold_bits = 6, rtl/REGISTERS.md "
            "'Programming a chip configuration': top = code, bottom = 63 - code), so no "
            "threshold device gets a code > 63; codes 64-255 are covered target-independently "
            "by the `code` coverpoint and by weight x 64-254 / 255")
        for side in ("top", "bottom") for code in ("64-254", "255")},
}


def _label(k: Any) -> str:
    return k if isinstance(k, str) else " x ".join(k)


def _match(m: Matcher, v: Any) -> bool:
    if callable(m):
        return bool(m(v))
    if isinstance(m, tuple):
        return m[0] <= v <= m[1]
    return v == m


class _Bins:
    """Covered / total counts of the ``hits`` dict (bin -> count) of a coverpoint or cross."""

    hits: dict

    @property
    def covered(self) -> int:
        return sum(1 for h in self.hits.values() if h)

    @property
    def total(self) -> int:
        return len(self.hits)


class Coverpoint(_Bins):
    """One coverpoint: ordered bins and their hit counts."""

    def __init__(self, name: str, bins: Sequence[tuple[str, Matcher]],
                 ignore: Iterable[str] = ()) -> None:
        if not bins:
            raise ValueError(f"bins: coverpoint {name!r} needs at least one bin")
        self.name = name
        self.bins = list(bins)
        self.ignored = [label for label, _ in self.bins if label in set(ignore)]
        self.hits = {label: 0 for label, _ in self.bins if label not in self.ignored}
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
        elif label in self.hits:  # not an ignored bin
            self.hits[label] += 1
        return label


class Cross(_Bins):
    """Cross of two coverpoints: every pair of their bins is a cross bin."""

    def __init__(self, name: str, a: Coverpoint, b: Coverpoint,
                 ignore: Iterable[str] = ()) -> None:
        self.name, self.a, self.b = name, a, b
        drop = set(ignore)
        pairs = [(x, y) for x in a.hits for y in b.hits]
        self.ignored = [_label(k) for k in pairs if _label(k) in drop]
        self.hits = {k: 0 for k in pairs if _label(k) not in drop}

    def sample(self, va: Any, vb: Any) -> None:
        la, lb = self.a.bin_of(va), self.b.bin_of(vb)
        if (la, lb) in self.hits:
            self.hits[(la, lb)] += 1


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
        cp = Coverpoint(name, bins, IGNORE_BINS.get((self.name, name), {}))
        self.points[name] = cp
        return cp

    def cross(self, name: str, a: str, b: str) -> Cross:
        if name in self.crosses:
            return self.crosses[name]
        cr = Cross(name, self.points[a], self.points[b], IGNORE_BINS.get((self.name, name), {}))
        self.crosses[name] = cr
        return cr

    def sample(self, name: str, value: Any) -> None:
        self.points[name].sample(value)

    def items(self) -> Iterable[Coverpoint | Cross]:
        yield from self.points.values()
        yield from self.crosses.values()

    @property
    def percent(self) -> float:
        return _pct(sum(i.covered for i in self.items()), sum(i.total for i in self.items()))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"percent": round(self.percent, 2), "points": {}}
        for it in self.items():
            out["points"][it.name] = {
                "covered": it.covered, "total": it.total,
                "hits": {_label(k): v for k, v in it.hits.items()},
                "ignored": list(it.ignored),
            }
        return out

    def report(self) -> str:
        return group_report(self.name, self.to_dict())


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
        """Write the JSON report (default: ``<test dir>/coverage_<test>.json`` of the run's
        configuration, tb.config.RunConfig)."""
        if path is None:
            from tb.common import run_config

            cfg = run_config()
            if cfg.test == "sim":
                return None
            path = Path(cfg.test_dir) / f"coverage_{cfg.test}.json"
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


# ---------------------------------------------------------------- reports and merge
def _pct(covered: int, total: int) -> float:
    return 100.0 * covered / total if total else 100.0


def group_report(name: str, group: dict[str, Any], max_holes: int | None = 8) -> str:
    """Text report of one covergroup dict (``Covergroup.to_dict`` / merged JSON): per
    coverpoint or cross the covered / total bins and the holes (the first ``max_holes``)."""
    pts = group["points"]
    cov = sum(p["covered"] for p in pts.values())
    tot = sum(p["total"] for p in pts.values())
    lines = [f"covergroup {name}: {_pct(cov, tot):.1f} % ({cov}/{tot} bins)"]
    for pname, p in pts.items():
        missing = [k for k, v in p["hits"].items() if not v]
        shown = missing if max_holes is None else missing[:max_holes]
        more = len(missing) - len(shown)
        lines.append(f"  {pname:<28} {p['covered']:>4}/{p['total']:<4}"
                     + (f" missing: {', '.join(shown)}" + (f" ... (+{more})" if more else "")
                        if missing else ""))
    return "\n".join(lines)


def merge(dumps: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Sum the hits of every bin over coverage dumps (``coverage_<test>.json`` contents).

    A bin present in any dump is a bin of the merge (its hits summed); bins in IGNORE_BINS or
    listed as ignored by any dump are dropped. Returns the same structure as one dump (with
    ``covered``/``total``/``percent`` recomputed)."""
    hits: dict[str, dict[str, dict[str, int]]] = {}
    ignored: dict[tuple[str, str], set[str]] = {}
    for d in dumps:
        for gname, g in d.items():
            gh = hits.setdefault(gname, {})
            for pname, p in g.get("points", {}).items():
                ph = gh.setdefault(pname, {})
                for label, n in p.get("hits", {}).items():
                    ph[label] = ph.get(label, 0) + int(n)
                ignored.setdefault((gname, pname), set()).update(p.get("ignored", ()))
    out: dict[str, Any] = {}
    for gname, gh in hits.items():
        pts: dict[str, Any] = {}
        for pname, ph in gh.items():
            drop = ignored.get((gname, pname), set()) | set(IGNORE_BINS.get((gname, pname), {}))
            kept = {k: v for k, v in ph.items() if k not in drop}
            pts[pname] = {"covered": sum(1 for v in kept.values() if v), "total": len(kept),
                          "hits": kept, "ignored": sorted(drop & set(ph))}
        cov = sum(p["covered"] for p in pts.values())
        tot = sum(p["total"] for p in pts.values())
        out[gname] = {"percent": round(_pct(cov, tot), 2), "points": pts}
    return out


def totals(merged: dict[str, Any]) -> tuple[int, int]:
    """(covered, total) bins over every covergroup of a dump or merge."""
    cov = sum(p["covered"] for g in merged.values() for p in g["points"].values())
    tot = sum(p["total"] for g in merged.values() for p in g["points"].values())
    return cov, tot


def holes(merged: dict[str, Any]) -> list[str]:
    """``group.point: bin`` of every bin with no hit."""
    return [f"{g}.{p}: {k}" for g, gd in merged.items() for p, pd in gd["points"].items()
            for k, v in pd["hits"].items() if not v]


def merged_report(merged: dict[str, Any], sources: Sequence[str | Path] = (),
                  goal: float = CLOSURE_GOAL) -> str:
    """Text report of a merge: sources, per-covergroup percentages and holes, the total
    against the closure goal, and every hole."""
    cov, tot = totals(merged)
    pct = _pct(cov, tot)
    lines = [f"merged functional coverage of {len(sources)} dump(s)"]
    lines += [f"  {s}" for s in sources]
    lines += [group_report(n, g, max_holes=None) for n, g in merged.items()]
    hs = holes(merged)
    met = pct >= goal
    lines.append(f"total: {pct:.1f} % ({cov}/{tot} bins); closure goal {goal:.0f} %: "
                 + ("met" if met else f"NOT met, {len(hs)} hole(s)"))
    n_ign = sum(len(p.get("ignored", ())) for g in merged.values()
                for p in g["points"].values())
    if n_ign:
        lines.append(f"({n_ign} unreachable bin(s) dropped: tb.coverage.IGNORE_BINS)")
    return "\n".join(lines)


def load_dumps(paths: Iterable[str | Path]) -> tuple[list[dict[str, Any]], list[Path]]:
    """Read coverage JSON dumps (unreadable files are skipped with a warning on stderr)."""
    dumps, used = [], []
    for p in paths:
        p = Path(p)
        try:
            dumps.append(json.loads(p.read_text()))
            used.append(p)
        except (OSError, json.JSONDecodeError) as exc:
            print(f"warning: {p}: not a coverage dump ({exc})", file=sys.stderr)
    return dumps, used


def session_dumps(build_root: str | Path, tests: Iterable[str], since: float = 0.0) -> list[Path]:
    """The coverage dumps of the regression's test modules under ``build_root``
    (``<root>/*/coverage_<test>.json`` for ``test`` in ``tests``: the default build dirs and
    e.g. the long AER runs) written at or after ``since`` (a ``time.time()``)."""
    names = {f"coverage_{t}.json" for t in tests}
    out = []
    for p in sorted(Path(build_root).glob("*/coverage_*.json")):
        try:
            if p.name in names and p.stat().st_mtime >= since:
                out.append(p)
        except OSError:
            continue
    return out


def session_report(build_root: str | Path, tests: Iterable[str], since: float = 0.0) -> str | None:
    """Merged report of :func:`session_dumps` (None when there is none: no simulation ran)."""
    tests = list(tests)
    dumps, used = load_dumps(session_dumps(build_root, tests, since))
    if not dumps:
        return None
    text = merged_report(merge(dumps), [str(u) for u in used])
    missing = [t for t in tests if f"coverage_{t}.json" not in {u.name for u in used}]
    if missing:
        text += (f"\n(partial run: no dump from {', '.join(missing)}; the closure goal is judged "
                 f"over all {len(tests)} modules)")
    return text


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tb.coverage",
                                 description="merge functional-coverage dumps")
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("merge", help="merge coverage_<test>.json dumps and print the report")
    m.add_argument("files", nargs="+", help="coverage JSON dumps (sim_build/*/coverage_*.json)")
    m.add_argument("--json", default=None, help="also write the merged coverage there")
    m.add_argument("--fail-under", type=float, default=None,
                   help="exit 1 when the total is below this percentage")
    args = ap.parse_args(argv)
    dumps, used = load_dumps(args.files)
    if not dumps:
        print("error: no readable coverage dump", file=sys.stderr)
        return 2
    merged = merge(dumps)
    print(merged_report(merged, [str(u) for u in used]))
    if args.json:
        Path(args.json).write_text(json.dumps(merged, indent=1) + "\n")
    cov, tot = totals(merged)
    if args.fail_under is not None and _pct(cov, tot) < args.fail_under:
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
