"""Shared testbench helpers: seeded RNGs, time, signal reads, flag vectors, the host clock.

Time is kept as integer simulator steps of one picosecond (tb/hdl/p2m_tb.v runs at
1 ps / 1 ps). Geometry and clock timing are not constants here: they are read from the
toplevel (tb.config.Geometry, tb.config.ClockTiming).
"""

from __future__ import annotations

import random
import zlib

import numpy as np
from cocotb.simtime import get_sim_time
from cocotb.triggers import ClockCycles

from tb.config import RunConfig

_RUN: RunConfig | None = None


def run_config() -> RunConfig:
    """The run's configuration (read once from the environment the runner set)."""
    global _RUN
    if _RUN is None:
        _RUN = RunConfig.from_env()
    return _RUN


def now_ps() -> int:
    """Simulation time in picoseconds (integer steps of the 1 ps precision)."""
    return int(get_sim_time("step"))


def test_seed() -> int:
    """The seed of this run (tb.config.RunConfig)."""
    return run_config().seed


def _salt(name: str) -> int:
    return zlib.crc32(name.encode())


def _test_name() -> str:
    try:
        from pyuvm import uvm_root

        top = uvm_root().get_child("uvm_test_top")
        return type(top).__name__ if top is not None else ""
    except Exception:  # noqa: BLE001 - outside a pyuvm test
        return ""


def py_rng(name: str) -> random.Random:
    """A ``random.Random`` for the component ``name`` of the running test, derived from the
    run's seed (so a replay with the same seed draws the same stimulus)."""
    return random.Random((test_seed() << 32) ^ _salt(_test_name() + "/" + name))


def np_rng(name: str) -> np.random.Generator:
    """A numpy Generator for the component ``name`` of the running test (see py_rng)."""
    return np.random.default_rng([test_seed(), _salt(_test_name() + "/" + name)])


def flags_to_int(bits: np.ndarray) -> int:
    """Flag vector (N_NEUR,) bool, bit ``y*OUT_W + x`` -> the integer on ``ana_flags``."""
    return int.from_bytes(np.packbits(np.asarray(bits, dtype=bool), bitorder="little").tobytes(),
                          "little")


def int_to_flags(value: int, n: int) -> np.ndarray:
    """Inverse of :func:`flags_to_int`: (n,) bool."""
    raw = np.frombuffer(int(value).to_bytes((n + 7) // 8, "little"), dtype=np.uint8)
    return np.unpackbits(raw, bitorder="little")[:n].astype(bool)


def sig_int(handle, default: int = -1) -> int:
    """Integer value of a signal, ``default`` when it holds X or Z."""
    v = handle.value
    try:
        return int(v)
    except ValueError:
        return default


class HostClock:
    """The host's request for the readout clock (``p2m_tb.host_clk_req``), reference counted:
    the APB driver holds it for a transfer, a test while it counts clk cycles. Without the
    handle (a block toplevel with a free-running clock) it does nothing."""

    def __init__(self, req, clk) -> None:
        self.req, self.clk, self.n = req, clk, 0

    def acquire(self) -> None:
        self.n += 1
        if self.req is not None and self.n == 1:
            self.req.value = 1

    def release(self) -> None:
        self.n -= 1
        if self.req is not None and self.n == 0:
            self.req.value = 0

    async def cycles(self, n: int) -> None:
        """Wait ``n`` rising clk edges with the clock running (started if it was stopped)."""
        self.acquire()
        try:
            await ClockCycles(self.clk, n)
        finally:
            self.release()
