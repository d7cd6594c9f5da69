"""The run configuration, the chip geometry and the clock timing of a simulation, read once.

* :class:`RunConfig`: everything the runner hands to a simulation (seed, test module, build
  and test directories, waves, simulator, knobs such as the bulk spike count). The runner
  (``tb.run``) writes it into the simulator's environment as ``P2M_*`` variables; inside the
  simulation :func:`RunConfig.from_env` is the only place that reads them.
* :class:`Geometry`: the chip's geometry read from the toplevel's parameters (``N_CH``,
  ``OUT_H``, ``OUT_W``, ``FLAG_SETTLE``), with the derived widths of rtl/REGISTERS.md
  "Parameters" and the address / flag-vector conversions.
* :class:`ClockTiming`: the periods and the clock source's start-up (tb/hdl/p2m_tb.v
  parameters), picoseconds.

:func:`publish` puts the three into pyuvm's ``ConfigDB`` (keys ``run_cfg``, ``geometry``,
``timing``) for every component; :func:`get` reads one back. Nothing here imports the runner.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

#: Environment variables of a run (set by tb.run for the simulator process).
ENV_SEED, ENV_TEST, ENV_DIR, ENV_WAVES, ENV_SIM = (
    "P2M_SEED", "P2M_TEST", "P2M_BUILD_DIR", "P2M_WAVES", "P2M_SIM")
#: Test knobs: a replay command repeats the ones that are set.
KNOBS = ("P2M_FILES_F", "P2M_AER_SPIKES", "P2M_CHIP_CONFIG", "P2M_BENCH_OUT", "P2M_BENCH_LOAD",
         "P2M_COSIM_JOB")


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw, 0)
    except ValueError:
        raise ValueError(f"{name}: not an integer: {raw!r}") from None


@dataclass(frozen=True)
class RunConfig:
    """One simulation run (see the module docstring); ``knobs`` holds the ``P2M_*`` knobs
    that were set (strings)."""

    seed: int = 0
    test: str = "sim"
    test_dir: str = "."
    waves: bool = False
    sim: str = "icarus"
    aer_spikes: int = 100_000
    chip_config: str | None = None
    knobs: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> RunConfig:
        env = dict(os.environ if env is None else env)
        seed = None
        for var in (ENV_SEED, "COCOTB_RANDOM_SEED"):
            if env.get(var, "").strip():
                seed = _int(env, var, 0)
                break
        return cls(seed=seed or 0, test=env.get(ENV_TEST, "sim"),
                   test_dir=env.get(ENV_DIR, "."),
                   waves=env.get(ENV_WAVES, "").strip().lower() in ("1", "true", "yes", "on"),
                   sim=env.get(ENV_SIM, "icarus") or "icarus",
                   aer_spikes=_int(env, "P2M_AER_SPIKES", 100_000),
                   chip_config=env.get("P2M_CHIP_CONFIG") or None,
                   knobs={k: env[k] for k in KNOBS if env.get(k)})

    def replay(self, testcase: str | None = None) -> str:
        return replay_command(self.test, self.seed, self.knobs, testcase, self.sim)


def replay_command(test: str, seed: int, env: dict[str, str] | None = None,
                   testcase: str | None = None, sim: str = "icarus") -> str:
    """The shell command that replays ``test`` with ``seed`` (and the knobs in ``env`` and
    the environment)."""
    merged = {k: os.environ[k] for k in KNOBS if os.environ.get(k)}
    merged.update({k: str(v) for k, v in (env or {}).items() if k in KNOBS})
    prefix = "".join(f"{k}={v} " for k, v in merged.items())
    case = f" --testcase {testcase}" if testcase else ""
    simarg = f" --sim {sim}" if sim and sim != "icarus" else ""
    return f"{prefix}python -m tb.run {test} --seed {seed}{case}{simarg}"


def bits(n: int) -> int:
    """Address field width of ``n`` values: ceil(log2(n)), at least 1 (REGISTERS.md)."""
    return max(1, (int(n) - 1).bit_length())


@dataclass(frozen=True)
class Geometry:
    """The chip geometry (rtl/REGISTERS.md "Parameters"): N_CH channels of OUT_H x OUT_W
    neurons, flag bit ``y*OUT_W + x``; the widths are derived as in the RTL."""

    n_ch: int = 32
    out_h: int = 16
    out_w: int = 16
    flag_settle: int = 2
    n_pol: int = 2
    ksize: int = 3
    stride: int = 2  # of the sensor-side convolution (the RTL sees only OUT_H x OUT_W)

    @property
    def n_neur(self) -> int:
        return self.out_h * self.out_w

    @property
    def ch_bits(self) -> int:
        return bits(self.n_ch)

    @property
    def y_bits(self) -> int:
        return bits(self.out_h)

    @property
    def x_bits(self) -> int:
        return bits(self.out_w)

    @property
    def aw(self) -> int:
        return self.ch_bits + self.y_bits + self.x_bits

    @property
    def n_weights(self) -> int:
        return self.n_ch * self.n_pol * self.ksize * self.ksize

    @property
    def prog_idx_bits(self) -> int:
        return max(bits(self.n_weights), self.ch_bits)

    @property
    def empty_readout_cycles(self) -> int:
        """Cycles of a readout without spikes: N_CH * (FLAG_SETTLE + 1)."""
        return self.n_ch * (self.flag_settle + 1)

    def addr_pack(self, ch: int, y: int, x: int) -> int:
        """AER address ``{channel, y, x}`` (ints or int arrays)."""
        return (ch << (self.y_bits + self.x_bits)) | (y << self.x_bits) | x

    def addr_unpack(self, addr: int) -> tuple[int, int, int]:
        """``{channel, y, x}`` -> (channel, y, x); ``addr`` an int or an int array."""
        return (addr >> (self.y_bits + self.x_bits), (addr >> self.x_bits) & ((1 << self.y_bits) - 1),
                addr & ((1 << self.x_bits) - 1))

    def zeros(self) -> np.ndarray:
        """An empty window of flags, (N_CH, N_NEUR) bool."""
        return np.zeros((self.n_ch, self.n_neur), bool)

    @classmethod
    def from_dut(cls, dut) -> Geometry:
        """Read the parameters of the toplevel ``dut`` (p2m_tb or a block); a missing one keeps
        its default."""
        vals = {}
        for name, attr in (("N_CH", "n_ch"), ("OUT_H", "out_h"), ("OUT_W", "out_w"),
                           ("FLAG_SETTLE", "flag_settle"), ("N_POL", "n_pol"),
                           ("KSIZE", "ksize")):
            try:
                vals[attr] = int(getattr(dut, name).value)
            except (AttributeError, ValueError):
                pass
        return cls(**vals)


@dataclass(frozen=True)
class ClockTiming:
    """Clock timing of tb/hdl/p2m_tb.v, picoseconds: the readout clock's period and grid
    phase, the clock source's start-up, the slow clock's period."""

    clk_period_ps: int = 10_000
    clk_phase_ps: int = 3_000
    clk_start_ps: int = 250_000
    slow_period_ps: int = 1_000_000

    @property
    def clk_period_ns(self) -> float:
        return self.clk_period_ps / 1000

    def first_edge_after_start(self, t_req_ps: int) -> int:
        """Time of the first rising clk edge when the clock source starts at ``t_req_ps``."""
        t = t_req_ps + self.clk_start_ps
        return t + (self.clk_phase_ps - t) % self.clk_period_ps

    def next_slow_edge(self, t_ps: int) -> int:
        """The first rising clk_slow edge strictly after ``t_ps`` (edges at P/2 + k*P)."""
        p, h = self.slow_period_ps, self.slow_period_ps // 2
        k = max(0, (t_ps - h) // p + 1)
        return h + k * p

    @classmethod
    def from_dut(cls, dut) -> ClockTiming:
        vals = {}
        for name, attr in (("CLK_PERIOD_PS", "clk_period_ps"), ("CLK_PHASE_PS", "clk_phase_ps"),
                           ("CLK_START_PS", "clk_start_ps"), ("SLOW_PERIOD_PS", "slow_period_ps")):
            try:
                vals[attr] = int(getattr(dut, name).value)
            except (AttributeError, ValueError):
                pass
        return cls(**vals)


def publish(run_cfg: RunConfig, geometry: Geometry, timing: ClockTiming) -> None:
    """Put the run's configuration into pyuvm's ConfigDB for every component."""
    from pyuvm import ConfigDB

    for key, val in (("run_cfg", run_cfg), ("geometry", geometry), ("timing", timing)):
        ConfigDB().set(None, "*", key, val)


def get(component, key: str):
    """``ConfigDB().get(component, "", key)`` (``run_cfg``, ``geometry``, ``timing``, buses)."""
    from pyuvm import ConfigDB

    return ConfigDB().get(component, "", key)
