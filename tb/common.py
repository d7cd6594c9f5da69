"""Shared testbench helpers: geometry constants, seeded RNGs, clock/reset, time, signal reads.

Time is kept as integer simulator steps: the runner compiles with a 1 ns / 1 ps timescale, so
one step is one picosecond. The clock period is ``CLK_PERIOD_NS`` = 10 ns (100 MHz, so the
register default TICK_DIV = 100 makes a 1 microsecond tick).
"""

from __future__ import annotations

import os
import random
import zlib

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.simtime import get_sim_time
from cocotb.triggers import ClockCycles, RisingEdge, Timer

# Geometry of the default `p2m_top` parameters (rtl/REGISTERS.md "Parameters").
N_CH = 32  # first-layer channels (paper Sec. 4)
OUT_H = OUT_W = 16  # (34 - 3) // 2 + 1
N_NEUR = OUT_H * OUT_W  # 256 flag bits per channel, bit y*OUT_W + x
CH_BITS, Y_BITS, X_BITS = 5, 4, 4
FLAG_SETTLE = 2  # cycles from an ana_ch_sel change to the flag sample

CLK_PERIOD_NS = 10
PS_PER_NS = 1000
CLK_PERIOD_PS = CLK_PERIOD_NS * PS_PER_NS


def now_ps() -> int:
    """Simulation time in picoseconds (integer steps of the 1 ps precision)."""
    return int(get_sim_time("step"))


def test_seed() -> int:
    """The seed of this run: ``P2M_SEED`` (set by tb.run), else ``COCOTB_RANDOM_SEED``.

    (cocotb 2 re-derives ``cocotb.RANDOM_SEED`` per test; the run's seed is the one to replay.)
    """
    for var in ("P2M_SEED", "COCOTB_RANDOM_SEED"):
        raw = os.environ.get(var, "").strip()
        if raw:
            return int(raw)
    return int(getattr(cocotb, "RANDOM_SEED", 0) or 0)


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


def env_int(name: str, default: int) -> int:
    """Integer test knob from the environment (ValueError naming the variable when bad)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw, 0)
    except ValueError:
        raise ValueError(f"{name}: not an integer: {raw!r}") from None


def addr_pack(ch: int, y: int, x: int) -> int:
    """AER address ``{channel, y, x}`` (13 bits)."""
    return (ch << (Y_BITS + X_BITS)) | (y << X_BITS) | x


def addr_unpack(addr: int) -> tuple[int, int, int]:
    """``{channel, y, x}`` -> (channel, y, x)."""
    return addr >> (Y_BITS + X_BITS), (addr >> X_BITS) & ((1 << Y_BITS) - 1), addr & ((1 << X_BITS) - 1)


def flags_to_int(bits: np.ndarray) -> int:
    """Flag vector (N_NEUR,) bool, bit ``y*OUT_W + x`` -> the integer on ``ana_flags``."""
    return int.from_bytes(np.packbits(np.asarray(bits, dtype=bool), bitorder="little").tobytes(),
                          "little")


def int_to_flags(value: int, n: int = N_NEUR) -> np.ndarray:
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


def start_clock(dut, impl: str = "gpi") -> Clock:
    """Start the ``clk`` of ``dut`` (period CLK_PERIOD_NS). ``impl="gpi"`` keeps the clock in
    the simulator (Python asleep between boundary events); ``"py"`` is a Python coroutine."""
    clk = Clock(dut.clk, CLK_PERIOD_NS, unit="ns", impl=impl)
    clk.start(start_high=False)
    return clk


def init_inputs(dut) -> None:
    """Drive every input of `p2m_top` to its idle value."""
    dut.rst_n.value = 0
    dut.psel.value = 0
    dut.penable.value = 0
    dut.pwrite.value = 0
    dut.paddr.value = 0
    dut.pwdata.value = 0
    dut.aer_ack.value = 0
    dut.ana_flags.value = 0


async def reset_dut(dut, cycles: int = 5) -> None:
    """Assert ``rst_n`` (asynchronously, off the clock edge) for ``cycles`` and release it
    synchronously after a falling edge."""
    await Timer(CLK_PERIOD_NS // 4 + 1, unit="ns")
    dut.rst_n.value = 0
    await ClockCycles(dut.clk, cycles)
    dut.rst_n.value = 1
    await RisingEdge(dut.clk)
