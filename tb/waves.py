"""The GTKWave save file of a run (layout writer) and the in-simulation recorder it reads.

Split from the runner (``tb.run``): the simulation imports :class:`WaveRecorder` from here,
never the runner. With waves on, the testbench (``WAVES_REC``, started by
``tb.env.P2mBaseTest``) writes ``waves_info.json`` into the test directory at the end of
every test: the layout's variables with their widths/ranges and types read from the cocotb
handles, the times of the first two ``ana_sample`` rising edges and the end time (ps).
:func:`write_gtkw` turns that (or, without it, GTKWave's ``fst2vcd`` on the dump, or a static
description of the ports) into the grouped save file; :func:`open_waves` opens it.

The save file is written with pyvcd's ``vcd.gtkw.GTKWSave`` (groups, radices, the analog
step traces and their extra rows, the combined vectors of the AER address fields, the
translate filter of ``phase``, zoom and named markers); what is ours is the layout (which
signals, in which groups and formats) and where its variables and times come from.
"""

from __future__ import annotations

import io
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

# Analog taps (GTKWFlag analog_step | analog_fullscale, with real and right-justify: @c8020).
# The taps are written at each ana_sample and hold until the next one, so steps draw them as
# they are (interpolation drew ramps from one sample to the next, nearly flat in a one-window
# view, and hid the jump at the sample); full scale keeps one vertical scale (the whole dump's
# min..max) while scrolling instead of rescaling to the visible window.
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


def _zoom(span: int) -> float:
    """GTKWave's zoom (2 ** -zoom time units per 200 pixels) that fits ``span`` in the waves
    pane."""
    return -math.log2(max(span, 1) * _ZOOM_PX / _WAVE_W)


def _vector_fields(full: str, width: int, fields: tuple[tuple[str, int], ...]
                   ) -> list[tuple[str, list[tuple[int, str]]]]:
    """Bit fields of ``full`` as GTKWave combined vectors: (name, [(i, full), ...]) with ``i``
    the i-th bit from the MSB (GTKWave's ``(i)name``)."""
    base = full.split("[")[0]
    out, msb_pos = [], 0
    for name, w in fields:
        hi = width - 1 - msb_pos
        out.append((f"{base}.{name}[{hi}:{hi - w + 1}]", [(msb_pos + i, full) for i in range(w)]))
        msb_pos += w
    return out


def _width(full: str) -> int:
    m = re.search(r"\[(\d+):(\d+)\]$", full)
    return abs(int(m.group(1)) - int(m.group(2))) + 1 if m else 1


def gtkw_text(fst: Path, variables: dict[str, tuple[str, str]],
              samples: list[int] | None = None, end: int | None = None,
              phase_filter: Path | None = None) -> str:
    """The GTKWave save-file text for ``fst`` (signals missing from the dump are skipped),
    written with pyvcd's ``vcd.gtkw.GTKWSave``.

    ``samples``: the first ``ana_sample`` rising edges (dump time unit); the view then opens
    on the first window's sample and readout (from a little before the first edge to a little
    after the second, marker and named marker A on the first, B on the second); without them
    it opens zoomed to fit ``end`` (the last time of the dump). ``phase_filter``: a translate
    filter file for ``phase`` (see write_gtkw).
    """
    from vcd.gtkw import GTKWColor, GTKWFlag, GTKWSave

    buf = io.StringIO()
    g = GTKWSave(buf)
    g.comment("P2M p2m_top layout, written by tb/waves.py (python -m tb.run TEST --waves)")
    g.dumpfile(str(fst.resolve()))
    if samples:
        period = samples[1] - samples[0] if len(samples) > 1 else samples[0]
        start, span = max(0, samples[0] - period // 20), period + period // 5
        g.timestart(start)
        marker, named = samples[0], dict(zip("ab", samples[:2], strict=False))
    else:
        g.timestart(0)
        span, marker, named = end or 1, -1, {}
    g.size(_WIN_W, _WIN_H)
    g.pos(-1, -1)
    g.zoom_markers(_zoom(span), marker, **named)
    buf.write(f"[sst_width] {_SST_W}\n")     # no GTKWSave method for these two
    g.signals_width(_SIG_W)
    g.sst_expanded(True)
    buf.write("[sst_vpaned_height] 300\n")
    analog = GTKWFlag.analog_step | GTKWFlag.analog_fullscale
    for group, sigs in GROUPS:
        present = [(n, variables[n][0], fmt, variables[n][1]) for n, fmt in sigs
                   if n in variables]
        if not present:
            continue
        g.begin_group(group)
        for name, full, fmt, vtype in present:
            if fmt == "analog" or vtype == "real":
                color = GTKWColor(TAP_COLORS[name]) if name in TAP_COLORS else None
                g.trace(full, datafmt="real", color=color, extraflags=analog)
                for _ in range(ANALOG_ROWS):
                    g.blank(analog_extend=True)
            elif fmt == "phase" and phase_filter is not None:
                g.trace(full, datafmt="dec", translate_filter_file=str(phase_filter.resolve()))
            elif fmt == "addr":
                g.trace(full, datafmt="hex")
                aw = _width(full)
                chw = _width(variables["ana_ch_sel"][0]) if "ana_ch_sel" in variables else 5
                xw = _width(variables["probe_x"][0]) if "probe_x" in variables else (aw - chw) // 2
                if 0 < chw < aw and 0 < xw < aw - chw:
                    for fname, bits in _vector_fields(
                            full, aw, (("ch", chw), ("y", aw - chw - xw), ("x", xw))):
                        g.trace_combined(fname, bits, datafmt="dec")
            else:
                g.trace(full, datafmt={"bin": "bin", "hex": "hex"}.get(fmt, "dec"))
        g.end_group(group)
    return buf.getvalue()


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
