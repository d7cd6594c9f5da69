"""The GTKWave save file of a run (layout writer) and the in-simulation recorder it reads.

Split from the runner (``tb.run``): the simulation imports :class:`WaveRecorder` from here,
never the runner. With waves on, the testbench (``WAVES_REC``, started by
``tb.env.P2mBaseTest``) writes ``waves_info.json`` into the test directory at the end of
every test: the layout's variables with their widths/ranges and types read from the cocotb
handles, the times of the first two ``ana_sample`` rising edges and the end time (ps).
:func:`write_gtkw` turns that (or, without it, GTKWave's ``fst2vcd`` on the dump, or a static
description of the ports) into the grouped save file; :func:`open_waves` opens it.

Kept our own writer rather than pyvcd's ``gtkw`` module (docs/verification.md "Waves"): the
layout needs GTKWave's combined-vector lines (``#{...}`` for the AER address fields) and
the analog-trace flag combinations, which pyvcd's GTKWSave does not write, and the writer
is ~150 lines with its own tests.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tb.regs import PHASE

#: The toplevel of the chip tests (tb/hdl/p2m_tb.v) and the scope of p2m_top inside it.
TOPLEVEL = "p2m_tb"
DUT_SCOPE = "u_dut"
#: Variables that live inside p2m_top (sim-only taps and probe wires), not at the toplevel.
INNER = ("tap_dw_pos", "tap_dw_neg", "tap_vpre", "tap_vth", "probe_x")

# GTKWave trace flags (gtkwave analyzer.h, TraceEntFlagBits): 0x2 hex, 0x4 decimal, 0x8 binary,
# 0x20 right justify, 0x200 blank, 0x400 signed, 0x2000 translate filter file, 0x8000 analog
# step, 0x10000 analog interpolated, 0x20000 analog blank stretch (the extra rows that make an
# analog trace taller), 0x40000 real, 0x80000 analog full scale (scaled over the whole dump,
# not the visible window), 0x400000 closed group, 0x800000 group begin, 0x1000000 group end.
_F_BIN, _F_HEX, _F_DEC = 0x28, 0x22, 0x24
_F_FTRANSLATED = 0x2000
_F_REAL = 0x40000
# Analog taps: step, full scale, real, right-justified (@c8020). The taps are written at each
# ana_sample and hold until the next one, so steps draw them as they are (interpolation drew
# ramps from one sample to the next, nearly flat in a one-window view, and hid the jump at
# the sample); full scale keeps one vertical scale (the whole dump's min..max) while
# scrolling instead of rescaling to the visible window.
_F_ANALOG = 0x8000 | 0x80000 | _F_REAL | 0x20
_F_STRETCH = 0x20000
_F_GRP_BEGIN, _F_GRP_END, _F_BLANK = 0x800000, 0x1000000, 0x200
#: Extra rows of height of each analog trace.
ANALOG_ROWS = 3
#: GTKWave window size of the layout (pixels) and the widths of its two left panes.
_WIN_W, _WIN_H, _SST_W, _SIG_W = 1600, 1000, 180, 250
#: Width of the waves pane at that window size (about 1050 px measured with GTKWave 3.3.118;
#: a little less so that the span fits with other fonts).
_WAVE_W = _WIN_W - _SST_W - _SIG_W - 160
#: GTKWave's zoom is the time shown in this many pixels (2 ** -zoom, `pixelsperframe`).
_ZOOM_PX = 200
#: GTKWave trace colours of the analog taps (1 red, 2 orange, 3 yellow, 7 violet).
TAP_COLORS = {"tap_dw_pos": 2, "tap_dw_neg": 7, "tap_vpre": 3, "tap_vth": 1}
#: Names of the `phase` debug port values by encoding (tb.regs.PHASE, rtl/REGISTERS.md), the
#: translate filter's text.
PHASE_NAMES = tuple(sorted(PHASE, key=PHASE.__getitem__))

#: Signal groups of the layout: (group, [(port/variable name, format)]). Format "addr"
#: splits the AER address into its {channel, y, x} fields below the hex bus; "phase" is
#: decimal with the PHASE_NAMES translate filter.
GROUPS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("clock and reset", (("clk", "bin"), ("rst_n", "bin"))),
    ("AER handshake", (("aer_req", "bin"), ("aer_ack", "bin"))),
    ("AER address", (("aer_addr", "addr"),)),
    ("phases", (("phase", "phase"), ("ana_sample", "bin"), ("ana_ch_sel", "dec"),
                ("ana_flags", "hex"), ("irq", "bin"))),
    ("analog taps", (("tap_dw_pos", "analog"), ("tap_dw_neg", "analog"), ("tap_vpre", "analog"),
                     ("tap_vth", "analog"))),
    ("accumulator reset", (("ana_rst", "bin"), ("ana_rst_all", "bin"), ("ana_rst_ch", "dec"),
                           ("ana_rst_mask", "hex"))),
    ("programming", (("ana_prog", "bin"), ("ana_prog_target", "dec"), ("ana_prog_index", "dec"),
                     ("ana_prog_dir", "bin"))),
    ("APB", (("psel", "bin"), ("penable", "bin"), ("pwrite", "bin"), ("paddr", "hex"),
             ("pwdata", "hex"), ("prdata", "hex"), ("pready", "bin"), ("pslverr", "bin"))),
)


#: Written by the testbench in the build dir when waves are on (see WaveRecorder).
WAVE_INFO = "waves_info.json"
#: Time unit of the dump: the simulation precision, 1 ps.
_DUMP_UNIT_PS = 1


def layout_names() -> tuple[str, ...]:
    """The ``p2m_top`` variables the layout uses (GROUPS + ``probe_x`` for the x field)."""
    return tuple(n for _, sigs in GROUPS for n, _ in sigs) + ("probe_x",)


def _var(name: str, width: int | None, left: int | None = None,
         right: int | None = None) -> tuple[str, str]:
    """(full name as in the dump, vcd type): ``width`` None is a ``real``."""
    path = f"{TOPLEVEL}.{DUT_SCOPE}.{name}" if name in INNER else f"{TOPLEVEL}.{name}"
    if width is None:
        return path, "real"
    if width == 1 and left is None:
        return path, "wire"
    left = width - 1 if left is None else left
    right = 0 if right is None else right
    return f"{path}[{left}:{right}]", "wire"


def static_vars() -> dict[str, tuple[str, str]]:
    """The layout's variables from a static description of ``p2m_tb`` (ports and taps, the
    widths of the default geometry, tb.config.Geometry): {name: (full, type)}."""
    from tb.config import Geometry

    g = Geometry()
    widths: dict[str, int | None] = {n: 1 for n in layout_names()}
    widths.update({"aer_addr": g.aw, "phase": 3, "ana_ch_sel": g.ch_bits,
                   "ana_flags": g.n_neur, "ana_rst_ch": g.ch_bits, "ana_rst_mask": g.n_neur,
                   "ana_prog_target": 2, "ana_prog_index": g.prog_idx_bits, "paddr": 12,
                   "pwdata": 32, "prdata": 32, "probe_x": g.x_bits})
    widths.update({n: None for n in TAP_COLORS})
    return {n: _var(n, w) for n, w in widths.items()}


def handle_vars(dut) -> dict[str, tuple[str, str]]:
    """The layout's variables read from the cocotb handles of ``dut`` (inside a simulation):
    ``real`` taps by type, vectors with their declared range; missing names are left out."""
    from cocotb.handle import LogicObject, RealObject

    out: dict[str, tuple[str, str]] = {}
    for name in layout_names():
        try:
            h = getattr(getattr(dut, DUT_SCOPE), name) if name in INNER else getattr(dut, name)
        except AttributeError:
            continue
        if isinstance(h, RealObject):
            out[name] = _var(name, None)
        elif isinstance(h, LogicObject):  # one bit
            out[name] = _var(name, 1)
        else:  # packed vector (Icarus: PackedObject / LogicArrayObject), declared range
            rng = h.range
            out[name] = _var(name, len(h), rng.left, rng.right)
    return out


class WaveRecorder:
    """Inside the simulation, with waves on (``P2M_WAVES``, set by run_test): records the
    first ``ana_sample`` rising edges and writes ``waves_info.json`` to ``P2M_BUILD_DIR`` at
    the end of each test (variables from the handles, samples, end time; picoseconds), so
    that the GTKWave layout needs no tool to read the FST. ``tb.env.P2mBaseTest`` calls
    ``start`` at the start of every test and ``dump`` at its end."""

    N_SAMPLES = 2

    def __init__(self) -> None:
        self.samples: list[int] = []
        self._task = None

    @staticmethod
    def enabled() -> bool:
        from tb.common import run_config

        return run_config().waves

    def start(self, dut) -> None:
        """Watch ``ana_sample`` (cocotb ends the watcher with the test; the next test's
        ``start`` resumes it while fewer than N_SAMPLES edges were seen)."""
        if not (self.enabled() and len(self.samples) < self.N_SAMPLES
                and hasattr(dut, "ana_sample")):
            return
        if self._task is not None and not self._task.done():
            return
        import cocotb

        self._task = cocotb.start_soon(self._watch(dut))

    async def _watch(self, dut) -> None:
        from cocotb.triggers import RisingEdge

        from tb.common import now_ps

        while len(self.samples) < self.N_SAMPLES:
            await RisingEdge(dut.ana_sample)
            t = now_ps()
            if t not in self.samples:
                self.samples.append(t)

    def dump(self, dut) -> Path | None:
        if not self.enabled():
            return None
        from tb.common import now_ps, run_config

        path = Path(run_config().test_dir) / WAVE_INFO
        info = {"unit": "ps", "vars": handle_vars(dut), "samples": self.samples,
                "end": now_ps()}
        path.write_text(json.dumps(info, indent=1) + "\n")
        return path


WAVES_REC = WaveRecorder()


def load_wave_info(path: Path) -> tuple[dict[str, tuple[str, str]], list[int], int] | None:
    """(variables, first ana_sample edges, end) from a ``waves_info.json``, times in the
    dump's unit; None when the file is missing or unreadable."""
    try:
        info = json.loads(Path(path).read_text())
        scale = {"ps": 1, "ns": 1000, "fs": 1e-3}[info.get("unit", "ps")] / _DUMP_UNIT_PS
        variables = {k: (v[0], v[1]) for k, v in info["vars"].items()}
        samples = [round(t * scale) for t in info.get("samples", [])]
        return variables, samples, round(info.get("end", 0) * scale)
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def results_end_time(results: Path) -> int | None:
    """The simulation's end time (dump unit) from a cocotb ``results.xml`` (the latest
    ``sim_time_stop`` of its test cases), None when unknown."""
    import xml.etree.ElementTree as ET

    unit_ps = {"fs": 1e-3, "ps": 1, "ns": 1000, "us": 10**6, "ms": 10**9}
    try:
        root = ET.parse(results).getroot()
    except (OSError, ET.ParseError):
        return None
    end = None
    for tc in root.iter("testcase"):
        props = {p.get("name"): p.get("value") for p in tc.iter("property")}
        try:
            t = float(props["sim_time_stop"]) * unit_ps[props.get("sim_time_unit", "ns")]
        except (KeyError, TypeError, ValueError):
            continue
        end = t if end is None else max(end, t)
    return None if end is None else round(end / _DUMP_UNIT_PS)


def _fst2vcd(fst: Path) -> subprocess.Popen:
    exe = shutil.which("fst2vcd")
    if exe is None:
        raise RuntimeError("fst2vcd (GTKWave) not found")
    return subprocess.Popen([exe, str(fst)], stdout=subprocess.PIPE, text=True,
                            stderr=subprocess.DEVNULL)


def fst_vars(fst: Path) -> dict[str, tuple[str, str]]:
    """Variables of the ``p2m_tb`` scope (and the taps of ``p2m_tb.u_dut``) of an FST: {name: (full name with range, vcd type)}.

    Reads the header that ``fst2vcd`` prints (stops at ``$enddefinitions``).
    """
    return _fst_scan(fst, samples=0)[0]


def fst_sample_times(fst: Path, n: int = 2) -> tuple[list[int], int]:
    """The first ``n`` rising edges of ``p2m_top.ana_sample`` and the last time seen, in the
    dump's time unit (the whole dump is read only when it has fewer than ``n`` samples)."""
    _, rises, last = _fst_scan(fst, samples=n)
    return rises, last


def _fst_scan(fst: Path, samples: int) -> tuple[dict[str, tuple[str, str]], list[int], int]:
    out: dict[str, tuple[str, str]] = {}
    scope: list[str] = []
    code = None
    rises: list[int] = []
    t = 0
    with _fst2vcd(fst) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            tok = line.split()
            if not tok:
                continue
            if tok[0] == "$scope":
                scope.append(tok[2])
            elif tok[0] == "$upscope":
                scope.pop()
            elif tok[0] == "$var" and (scope == [TOPLEVEL] or (scope == [TOPLEVEL, DUT_SCOPE]
                                                                and tok[4] in INNER)):
                vtype, name = tok[1], tok[4]
                rng = tok[5] if len(tok) > 6 and tok[5].startswith("[") else ""
                out[name] = (f"{'.'.join(scope)}.{name}{rng}", vtype)
                if name == "ana_sample" and len(scope) == 1:
                    code = tok[3]
            elif tok[0] == "$enddefinitions":
                if samples <= 0:
                    proc.kill()
                    break
                sample_on = "1" + code if code else None
                for line in proc.stdout:  # value changes
                    if line[0] == "#":
                        t = int(line[1:])
                    elif line.rstrip("\n") == sample_on:
                        rises.append(t)
                        if len(rises) >= samples:
                            proc.kill()
                            break
                break
    return out, rises, t


def _zoom_line(span: int, marker: int = -1, named: tuple[int, ...] = ()) -> str:
    """``*`` line: zoom (GTKWave: 2 ** -zoom time units per 200 pixels) that fits ``span`` in
    the waves pane, the marker, then the 26 named markers A..Z (-1: unset)."""
    zoom = -math.log2(max(span, 1) * _ZOOM_PX / _WAVE_W)
    marks = list(named)[:26] + [-1] * (26 - len(named[:26]))
    return f"*{zoom:.6f} {marker} " + " ".join(str(m) for m in marks)


def _vector_fields(full: str, width: int, fields: tuple[tuple[str, int], ...]) -> list[str]:
    """GTKWave combined vectors of bit fields of ``full`` (``(i)`` = i-th bit from the MSB)."""
    base = full.split("[")[0]
    lines, msb_pos = [], 0
    for name, w in fields:
        hi = width - 1 - msb_pos
        bits = " ".join(f"({msb_pos + i}){full}" for i in range(w))
        lines += [f"#{{{base}.{name}[{hi}:{hi - w + 1}]}} {bits}"]
        msb_pos += w
    return lines


def _width(full: str) -> int:
    m = re.search(r"\[(\d+):(\d+)\]$", full)
    return abs(int(m.group(1)) - int(m.group(2))) + 1 if m else 1


def gtkw_text(fst: Path, variables: dict[str, tuple[str, str]],
              samples: list[int] | None = None, end: int | None = None,
              phase_filter: Path | None = None) -> str:
    """The GTKWave save-file text for ``fst`` (signals missing from the dump are skipped).

    ``samples``: the first ``ana_sample`` rising edges (dump time unit); the view then opens
    on the first window's sample and readout (from a little before the first edge to a little
    after the second, marker and named marker A on the first, B on the second); without them
    it opens zoomed to fit ``end`` (the last time of the dump). ``phase_filter``: a translate
    filter file for ``phase`` (see write_gtkw).
    """
    lines = ["[*] P2M p2m_top layout, written by tb/waves.py (python -m tb.run TEST --waves)",
             f'[dumpfile] "{fst.resolve()}"']
    if samples:
        period = samples[1] - samples[0] if len(samples) > 1 else samples[0]
        start = max(0, samples[0] - period // 20)
        span = period + period // 5
        lines += [f"[timestart] {start}", f"[size] {_WIN_W} {_WIN_H}", "[pos] -1 -1",
                  _zoom_line(span, samples[0], tuple(samples[:2]))]
    else:
        lines += ["[timestart] 0", f"[size] {_WIN_W} {_WIN_H}", "[pos] -1 -1",
                  _zoom_line(end or 1)]
    lines += [f"[sst_width] {_SST_W}", f"[signals_width] {_SIG_W}", "[sst_expanded] 1",
              "[sst_vpaned_height] 300"]
    for group, sigs in GROUPS:
        present = [(n, variables[n][0], fmt, variables[n][1]) for n, fmt in sigs
                   if n in variables]
        if not present:
            continue
        lines += [f"@{_F_GRP_BEGIN | _F_BLANK:x}", f"-{group}"]
        for name, full, fmt, vtype in present:
            if fmt == "analog" or vtype == "real":
                color = TAP_COLORS.get(name)
                lines += ([f"[color] {color}"] if color is not None else []) + [
                    f"@{_F_ANALOG:x}", full, f"@{_F_STRETCH:x}"] + ["-"] * ANALOG_ROWS
            elif fmt == "phase" and phase_filter is not None:
                lines += [f"^1 {phase_filter.resolve()}", f"@{_F_DEC | _F_FTRANSLATED:x}", full]
            elif fmt == "addr":
                lines += [f"@{_F_HEX:x}", full]
                aw = _width(full)
                chw = _width(variables["ana_ch_sel"][0]) if "ana_ch_sel" in variables else 5
                xw = _width(variables["probe_x"][0]) if "probe_x" in variables else (aw - chw) // 2
                if 0 < chw < aw and 0 < xw < aw - chw:
                    lines += [f"@{_F_DEC:x}"] + _vector_fields(
                        full, aw, (("ch", chw), ("y", aw - chw - xw), ("x", xw)))
            else:
                flag = {"bin": _F_BIN, "hex": _F_HEX, "dec": _F_DEC, "phase": _F_DEC}[fmt]
                lines += [f"@{flag:x}", full]
        lines += [f"@{_F_GRP_END | _F_BLANK:x}", f"-{group}"]
    return "\n".join(lines) + "\n"


def layout_source(fst: Path) -> tuple[str, dict[str, tuple[str, str]], list[int], int | None]:
    """Where the layout's variables and times come from, in order: the testbench's
    ``waves_info.json`` beside the FST; else ``fst2vcd`` (GTKWave) when installed; else the
    static description of the ports with the end time from ``results.xml``. Returns
    (source, variables, first ana_sample edges, end)."""
    info = load_wave_info(fst.parent / WAVE_INFO)
    if info is not None:
        return WAVE_INFO, *info
    if shutil.which("fst2vcd") is not None:
        try:
            variables = fst_vars(fst)
            samples, end = fst_sample_times(fst, 2)
            return "fst2vcd", variables, samples, end
        except (OSError, RuntimeError):
            pass
    return "static", static_vars(), [], results_end_time(fst.parent / "results.xml")


def write_gtkw(fst: Path, path: Path) -> Path:
    """Write the grouped GTKWave save file for ``fst`` to ``path``, and beside it the
    ``phase`` translate filter ``<stem>.phase.txt`` (value, name per line). Needs no external
    tool (see layout_source)."""
    source, variables, samples, end = layout_source(fst)
    filt = path.with_name(f"{path.stem}.phase.txt")
    filt.write_text("".join(f"{i} {n}\n" for i, n in enumerate(PHASE_NAMES)))
    text = gtkw_text(fst, variables, samples=samples, end=end, phase_filter=filt)
    head, rest = text.split("\n", 1)
    path.write_text(f"{head} [variables: {source}]\n{rest}")
    return path


def open_waves(bdir: Path, test: str) -> int:
    """Open ``<bdir>/p2m_tb.fst`` in GTKWave with its save file (0 on success)."""
    fst = bdir / f"{TOPLEVEL}.fst"
    gtkw = bdir / f"{test}.gtkw"
    if not fst.is_file():
        print(f"error: {fst} does not exist; run `make sim TEST={test} WAVES=1` "
              f"(or `python -m tb.run {test} --waves`) first", file=sys.stderr)
        return 2
    if not gtkw.is_file():
        write_gtkw(fst, gtkw)
    cmd = ["gtkwave", str(fst), str(gtkw)]
    shown = " ".join(cmd)
    if shutil.which("gtkwave") is None:
        print(f"gtkwave is not installed; install it and run:\n  {shown}")
        return 2
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                  or os.environ.get("WAYLAND_DISPLAY")):
        print(f"no display (DISPLAY is not set); on a machine with one run:\n  {shown}")
        return 0
    return subprocess.call(cmd)
