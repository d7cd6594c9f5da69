"""Build and run one cocotb testbench of `p2m_top` under Icarus Verilog.

Command line::

    python -m tb.run TEST [--seed N] [--waves] [--waves-only] [--testcase NAME]

``TEST`` is a test module of ``tb/`` (``test_aer_readout``, ...; the ``tb.`` prefix and a
``.py`` suffix are accepted). Sources come from ``rtl/files.f`` (one path a line, relative to
the repository root, compile order; ``#``/``//`` comments), the toplevel is ``p2m_top``, and
every test module has its own build directory ``sim_build/<test>/`` so that ``pytest -n auto``
can run several at once.

Seeds: ``--seed``, else the environment (``P2M_SEED``, then ``COCOTB_RANDOM_SEED``), else a
fresh one. The seed is printed at start and, on failure, in the error with the exact command
that replays the run.

Waves: ``--waves`` or ``WAVES=1`` builds with an FST dump (``sim_build/<test>/p2m_top.fst``,
the ``real`` analog taps included) and writes a GTKWave save file beside it
(``sim_build/<test>/<test>.gtkw``) with the signals grouped: clock and reset, AER handshake,
AER address (with its channel/y/x fields), phases (``phase`` named through the translate
filter ``<test>.phase.txt``), the analog taps drawn as analog step traces, accumulator reset,
programming, APB. It opens on the first integration window's sample and readout (markers A
and B on the first two ``ana_sample`` edges), or zoomed to fit a dump without samples.
The layout needs no external tool: the testbench writes ``sim_build/<test>/waves_info.json``
at the end of every test (the variables' widths and types read from the cocotb handles, the
first ``ana_sample`` rising edges and the end time); without it (a module not built on
``tb.env``) the variables come from ``fst2vcd`` when GTKWave's tools are installed, else from
the static description of the ports (``static_vars``) with the end time from ``results.xml``.
``--waves-only`` opens that FST in GTKWave with that save file (or prints the command when
there is no display).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tb.regs import PHASE

REPO = Path(__file__).resolve().parents[1]
TOPLEVEL = "p2m_top"
#: The cocotb test modules of tb/ (each a `make sim TEST=<name>` target).
TESTS = ("test_csr", "test_aer_readout", "test_reset_sequencer", "test_threshold_ctrl",
         "test_p2m_top")
#: Extra modules runnable through run_test (benchmarks), not part of the regression.
EXTRA_MODULES = ("bench_rtl_tb",)
TIMESCALE = ("1ns", "1ps")


class SimFailure(RuntimeError):
    """A simulation whose cocotb tests failed (or that did not finish); names seed and replay."""


@dataclass
class SimResult:
    """Outcome of one run: test count, failures, seed, wall seconds, build dir, waves file."""

    test: str
    seed: int
    tests: int
    failed: int
    wall_s: float
    build_dir: Path
    fst: Path | None

    @property
    def replay(self) -> str:
        return replay_command(self.test, self.seed)


#: Environment knobs that change a run: a replay command repeats the ones that are set.
KNOBS = ("P2M_FILES_F", "P2M_AER_SPIKES", "P2M_CHIP_CONFIG")


def replay_command(test: str, seed: int, env: dict[str, str] | None = None,
                   testcase: str | None = None) -> str:
    """The shell command that replays ``test`` with ``seed`` (and the knobs in effect)."""
    merged = {k: os.environ[k] for k in KNOBS if os.environ.get(k)}
    merged.update({k: str(v) for k, v in (env or {}).items() if k in KNOBS})
    prefix = "".join(f"{k}={v} " for k, v in merged.items())
    case = f" --testcase {testcase}" if testcase else ""
    return f"{prefix}python -m tb.run {test} --seed {seed}{case}"


def normalize_test(name: str) -> str:
    """``tb/test_x.py``, ``tb.test_x`` or ``test_x`` -> ``test_x`` (ValueError when unknown)."""
    n = str(name).strip()
    n = n.removesuffix(".py").replace("/", ".")
    n = n.removeprefix("tb.")
    if n not in TESTS and n not in EXTRA_MODULES:
        raise ValueError(f"test: unknown test module {name!r}; known: {', '.join(TESTS)}")
    return n


def read_files_f(path: Path | None = None) -> list[Path]:
    """Source files listed in ``rtl/files.f`` (absolute paths, compile order).

    Blank lines and ``#`` or ``//`` comments are skipped; ``+incdir+`` and other ``+``/``-``
    options are ignored. Raises FileNotFoundError naming a missing file.
    """
    if path is None and os.environ.get("P2M_FILES_F"):
        path = Path(os.environ["P2M_FILES_F"])  # e.g. a mutated copy of the RTL
    path = Path(path) if path else REPO / "rtl" / "files.f"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the RTL source list is missing (rtl/files.f)")
    out: list[Path] = []
    for lineno, raw in enumerate(path.read_text().splitlines(), 1):
        line = re.split(r"#|//", raw, maxsplit=1)[0].strip()
        if not line or line[0] in "+-":
            continue
        p = Path(line)
        p = p if p.is_absolute() else REPO / p
        if not p.is_file():
            raise FileNotFoundError(f"{path}:{lineno}: source {line!r} not found")
        out.append(p)
    if not out:
        raise FileNotFoundError(f"{path}: lists no source file")
    return out


def resolve_seed(seed: int | None) -> int:
    """``seed``, else ``P2M_SEED`` / ``COCOTB_RANDOM_SEED`` from the environment, else fresh."""
    if seed is None:
        for var in ("P2M_SEED", "COCOTB_RANDOM_SEED"):
            if os.environ.get(var, "").strip():
                try:
                    seed = int(os.environ[var])
                except ValueError:
                    raise ValueError(f"{var}: not an integer seed: {os.environ[var]!r}") from None
                break
    if seed is None:
        seed = int.from_bytes(os.urandom(4), "little") & 0x7FFFFFFF
    if not 0 <= int(seed) < 2**32:
        raise ValueError(f"seed: must be in [0, 2**32), got {seed}")
    return int(seed)


def _env_bool(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def default_build_dir(test: str) -> Path:
    return REPO / "sim_build" / test


def run_test(name: str, seed: int | None = None, waves: bool = False,
             build_dir: str | Path | None = None, extra_env: dict[str, str] | None = None,
             testcase: str | None = None, quiet: bool = False,
             log_file: str | Path | None = None) -> SimResult:
    """Compile the RTL (when outdated) and run the cocotb test module ``tb.<name>``.

    Args:
        name: test module (``test_aer_readout`` ...).
        seed: random seed (see module docstring); printed at start.
        waves: dump an FST and write the GTKWave save file (also on with env ``WAVES=1``).
        build_dir: default ``sim_build/<name>/``.
        extra_env: extra environment variables for the simulation (test knobs).
        testcase: run only this cocotb test (a test function or pyuvm test class name).
        quiet: do not print the start banner.
        log_file: write the simulator's output there instead of the console.

    Returns the SimResult; raises SimFailure (message: seed and replay command) when a test
    failed or the simulator did not produce results.
    """
    from cocotb_tools.runner import get_results, get_runner

    test = normalize_test(name)
    seed = resolve_seed(seed)
    waves = bool(waves) or _env_bool("WAVES")
    bdir = Path(build_dir) if build_dir else default_build_dir(test)
    bdir.mkdir(parents=True, exist_ok=True)
    sources = read_files_f()
    if not quiet:
        print(f"[tb.run] {test}: seed={seed} waves={int(waves)} build_dir={bdir}", flush=True)
        print(f"[tb.run] replay: {replay_command(test, seed, extra_env, testcase)}", flush=True)

    # Rebuild when the source list or the waves flag changed (the runner only compares times).
    stamp = bdir / "build_flags.json"
    flags = {"waves": waves, "sources": [str(s) for s in sources]}
    always = True
    if stamp.is_file():
        try:
            always = json.loads(stamp.read_text()) != flags
        except (OSError, json.JSONDecodeError):
            always = True
    runner = get_runner("icarus")
    t0 = time.perf_counter()
    try:
        runner.build(sources=sources, hdl_toplevel=TOPLEVEL, build_dir=bdir, always=always,
                     waves=waves, timescale=TIMESCALE, build_args=["-Wall", "-Wno-timescale"],
                     log_file=bdir / "build.log")
    except RuntimeError as exc:
        stamp.unlink(missing_ok=True)
        log = bdir / "build.log"
        tail = log.read_text().strip().splitlines()[-5:] if log.is_file() else []
        raise SimFailure(f"{test}: Icarus compile failed ({exc}); {log}:\n  "
                         + "\n  ".join(tail)) from None
    stamp.write_text(json.dumps(flags))

    env = {"PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
           "P2M_TEST": test, "P2M_BUILD_DIR": str(bdir), "P2M_SEED": str(seed),
           "P2M_WAVES": "1" if waves else ""}
    env.update({k: str(v) for k, v in (extra_env or {}).items()})
    results = bdir / "results.xml"
    # outputs of an earlier run in this build dir must not leak into this one's
    for stale in (bdir / f"coverage_{test}.json", bdir / WAVE_INFO):
        stale.unlink(missing_ok=True)
    try:
        runner.test(test_module=f"tb.{test}", hdl_toplevel=TOPLEVEL, seed=seed, waves=waves,
                    build_dir=bdir, test_dir=bdir, results_xml=str(results.resolve()),
                    extra_env=env, testcase=testcase, timescale=TIMESCALE,
                    log_file=log_file)
    except SystemExit as exc:  # the runner exits on failure when it runs under pytest
        if exc.code not in (0, None):
            n, failed = _results(get_results, results)
            raise SimFailure(_fail_msg(test, seed, failed, n, bdir, extra_env, testcase)) from None
    wall = time.perf_counter() - t0
    n, failed = _results(get_results, results)
    fst = bdir / f"{TOPLEVEL}.fst"
    if waves and fst.is_file():
        try:
            gtkw = write_gtkw(fst, bdir / f"{test}.gtkw")
            if not quiet:
                print(f"[tb.run] waves: {fst}\n[tb.run] layout: {gtkw}", flush=True)
        except (OSError, RuntimeError) as exc:  # never fail a sim on the viewer layout
            print(f"[tb.run] warning: no GTKWave save file: {exc}", file=sys.stderr)
    if failed or n == 0:
        raise SimFailure(_fail_msg(test, seed, failed, n, bdir, extra_env, testcase))
    if not quiet:
        print(f"[tb.run] {test}: {n} test(s) passed in {wall:.1f} s (seed {seed})", flush=True)
    return SimResult(test, seed, n, failed, wall, bdir, fst if waves else None)


def _results(get_results, path: Path) -> tuple[int, int]:
    try:
        return get_results(path)
    except (RuntimeError, OSError, FileNotFoundError):
        return 0, 0


def first_failures(results: Path, limit: int = 3) -> list[str]:
    """``testcase: message`` of the first failed cocotb tests in a results.xml."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.parse(results).getroot()
    except (OSError, ET.ParseError):
        return []
    out = []
    for tc in root.iter("testcase"):
        for f in list(tc.iter("failure")) + list(tc.iter("error")):
            out.append(f"{tc.get('name')}: {f.get('type', '')}: {f.get('message', '')}")
            break
        if len(out) >= limit:
            break
    return out


def _fail_msg(test: str, seed: int, failed: int, n: int, bdir: Path,
              env: dict[str, str] | None = None, testcase: str | None = None) -> str:
    what = f"{failed} of {n} cocotb test(s) failed" if n else "the simulation produced no results"
    first = first_failures(bdir / "results.xml")
    detail = ("\n  " + "\n  ".join(first)) if first else ""
    return (f"{test}: {what} (seed {seed}); replay with: "
            f"{replay_command(test, seed, env, testcase)} "
            f"(log and results in {bdir}){detail}")


# ---------------------------------------------------------------- GTKWave save file
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
#: Time unit of the dump: Icarus dumps in the simulation precision (TIMESCALE[1]).
_DUMP_UNIT_PS = {"1fs": 1e-3, "1ps": 1, "1ns": 1000, "1us": 10**6}[TIMESCALE[1]]
#: Width of ana_prog_index (p2m_top parameter PROG_IDX_BITS; not in tb/common.py).
PROG_IDX_BITS = 10


def layout_names() -> tuple[str, ...]:
    """The ``p2m_top`` variables the layout uses (GROUPS + ``probe_x`` for the x field)."""
    return tuple(n for _, sigs in GROUPS for n, _ in sigs) + ("probe_x",)


def _var(name: str, width: int | None, left: int | None = None,
         right: int | None = None) -> tuple[str, str]:
    """(full name as in the dump, vcd type): ``width`` None is a ``real``."""
    if width is None:
        return f"{TOPLEVEL}.{name}", "real"
    if width == 1 and left is None:
        return f"{TOPLEVEL}.{name}", "wire"
    left = width - 1 if left is None else left
    right = 0 if right is None else right
    return f"{TOPLEVEL}.{name}[{left}:{right}]", "wire"


def static_vars() -> dict[str, tuple[str, str]]:
    """The layout's variables from a static description of ``p2m_top`` (ports and taps, the
    widths of the default parameters: ``tb/common.py`` constants): {name: (full, type)}."""
    from tb.common import CH_BITS, N_NEUR, X_BITS, Y_BITS

    widths: dict[str, int | None] = {n: 1 for n in layout_names()}
    widths.update({"aer_addr": CH_BITS + Y_BITS + X_BITS, "phase": 3, "ana_ch_sel": CH_BITS,
                   "ana_flags": N_NEUR, "ana_rst_ch": CH_BITS, "ana_rst_mask": N_NEUR,
                   "ana_prog_target": 2, "ana_prog_index": PROG_IDX_BITS, "paddr": 12,
                   "pwdata": 32, "prdata": 32, "probe_x": X_BITS})
    widths.update({n: None for n in TAP_COLORS})
    return {n: _var(n, w) for n, w in widths.items()}


def handle_vars(dut) -> dict[str, tuple[str, str]]:
    """The layout's variables read from the cocotb handles of ``dut`` (inside a simulation):
    ``real`` taps by type, vectors with their declared range; missing names are left out."""
    from cocotb.handle import LogicObject, RealObject

    out: dict[str, tuple[str, str]] = {}
    for name in layout_names():
        try:
            h = getattr(dut, name)
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
        return _env_bool("P2M_WAVES") and bool(os.environ.get("P2M_BUILD_DIR"))

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
        from tb.common import now_ps

        path = Path(os.environ["P2M_BUILD_DIR"]) / WAVE_INFO
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
    """Variables of the ``p2m_top`` scope of an FST: {name: (full name with range, vcd type)}.

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
            elif tok[0] == "$var" and scope == [TOPLEVEL]:
                vtype, name = tok[1], tok[4]
                rng = tok[5] if len(tok) > 6 and tok[5].startswith("[") else ""
                out[name] = (f"{TOPLEVEL}.{name}{rng}", vtype)
                if name == "ana_sample":
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
    lines = ["[*] P2M p2m_top layout, written by tb/run.py (python -m tb.run TEST --waves)",
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


def open_waves(test: str) -> int:
    """Open ``sim_build/<test>/p2m_top.fst`` in GTKWave with its save file (0 on success)."""
    bdir = default_build_dir(test)
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tb.run", description=__doc__.split("\n")[0])
    ap.add_argument("test", help=f"test module: {', '.join(TESTS)}")
    ap.add_argument("--seed", type=int, default=None, help="random seed (replay a failure)")
    ap.add_argument("--waves", action="store_true", help="dump an FST + GTKWave save file")
    ap.add_argument("--waves-only", action="store_true",
                    help="do not simulate: open the last FST of TEST in GTKWave")
    ap.add_argument("--testcase", default=None, help="run only this cocotb test")
    args = ap.parse_args(argv)
    try:
        test = normalize_test(args.test)
        if args.waves_only:
            return open_waves(test)
        run_test(test, seed=args.seed, waves=args.waves, testcase=args.testcase)
    except SimFailure as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
