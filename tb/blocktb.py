"""Shared pieces of the block-level testbenches (``tb/test_block_*.py``).

A block test file is both a cocotb test module (its ``@cocotb.test()`` coroutines run with
the block as the toplevel) and a pytest module (its ``test_block_*`` function, parametrized
over a parameter sweep, builds and runs the block through :func:`tb.run.run_test`), the way
verilog-axis tests ``axis_fifo``. Pieces:

* :func:`clock` starts a free-running 100 MHz clock on ``clk`` (cocotb's GPI clock; a block
  has no clock source), :func:`reset` resets the block (``rst_n`` low for 3 cycles, released
  at a falling edge: the blocks' resets are already synchronized in the chip);
* :class:`Cycle`: the per-cycle discipline that keeps both simulators in step: inputs are
  written at the falling edge, outputs (registered and combinational) read at ``ReadOnly``
  of the falling edge, and the reference model steps at the rising edge with the inputs
  that were on the pins;
* :func:`check`: an assertion whose message names the seed and the replay command;
* :func:`run_block`: the pytest side: seed (``P2M_SEED``, ``random``, or a fixed per-module
  one), the run through the runner, the failure message with the seed and replay command.
"""

from __future__ import annotations

import os
import random
import zlib

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from tb.common import run_config, sig_int

CLK_NS = 10


def rng(name: str) -> random.Random:
    """A generator for one cocotb test of the block module, from the run's seed."""
    return random.Random((run_config().seed << 32) ^ zlib.crc32(name.encode()))


def check(cond: bool, what: str) -> None:
    """Fail with ``what``, the seed and the replay command of this run."""
    if not cond:
        cfg = run_config()
        raise AssertionError(f"{what} (seed {cfg.seed}; replay: {cfg.replay()})")


def first_diff(a: list, b: list) -> int:
    """Index of the first difference of two sequences (the shorter length if one is a prefix)."""
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                min(len(a), len(b)))


def param(dut, name: str, default: int) -> int:
    """A toplevel parameter as an int (``default`` when the simulator does not expose it)."""
    try:
        return int(getattr(dut, name).value)
    except (AttributeError, ValueError):
        return default


def clock(dut) -> None:
    """Start the clock on ``dut.clk`` (once per cocotb test: the test owns the task)."""
    cocotb.start_soon(Clock(dut.clk, CLK_NS, unit="ns").start())


async def reset(dut) -> None:
    """Reset the block: ``rst_n`` low for 3 cycles, released at a falling edge."""
    dut.rst_n.value = 0
    for _ in range(3):
        await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst_n.value = 1


class Cycle:
    """One clock cycle at a time: ``await cyc.fall()`` (write inputs after it, then
    ``await cyc.settle()`` and read outputs), ``await cyc.rise()`` (step the model).
    ``at_fall``: the caller is at a falling edge now (after :func:`reset`), so the first
    ``fall()`` returns at once and the model sees every edge after the release."""

    def __init__(self, dut, at_fall: bool = False) -> None:
        self.dut, self.n, self.at_fall = dut, 0, at_fall

    async def fall(self) -> None:
        if self.at_fall:       # created at a falling edge (right after reset()): use it
            self.at_fall = False
            return
        await FallingEdge(self.dut.clk)

    async def settle(self) -> None:
        await ReadOnly()

    async def rise(self) -> None:
        await RisingEdge(self.dut.clk)
        self.n += 1

    def read(self, *names: str) -> dict[str, int]:
        return {n: sig_int(getattr(self.dut, n)) for n in names}


def block_seed(module: str) -> int | None:
    """``P2M_SEED`` (``random``: a fresh one), else a fixed seed per module (CI replays)."""
    raw = os.environ.get("P2M_SEED", "").strip()
    if raw == "random":
        return None
    return int(raw) if raw else zlib.crc32(module.encode()) & 0xFFFF


def run_block(module: str, parameters: dict[str, int], sim: str | None = None) -> None:
    """The pytest side of a block test: build and run ``tb.<module>`` at ``parameters``;
    ``pytest.fail`` with the seed and the replay command when a cocotb test failed."""
    import pytest

    from tb.run import SimFailure, run_test

    msg = None
    try:
        res = run_test(module, seed=block_seed(module), quiet=True, parameters=parameters,
                       sim=sim)
    except SimFailure as exc:
        msg = str(exc)
    if msg:
        pytest.fail(msg, pytrace=False)
    assert res.failed == 0 and res.tests > 0
