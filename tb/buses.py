"""Bus objects: the handles an agent drives and watches, found by name prefix in a scope.

An agent takes a bus (and the clock and reset handles) instead of reading ``cocotb.top``
with fixed names, so the same agent sits on ``p2m_tb`` (the chip) or on a block toplevel
(``p2m_aer_tx``), in the manner of cocotbext-axi's ``AxiStreamBus.from_prefix(dut, "s_axis")``:

    AerBus.from_prefix(dut, "aer")    -> dut.aer_req, dut.aer_ack, dut.aer_addr
    ApbBus.from_prefix(dut, "p")      -> dut.psel, dut.penable, ..., dut.pslverr
    AnalogBus.from_prefix(dut, "ana") -> dut.ana_sample, dut.ana_ch_sel, dut.ana_flags, ...
    ClockReset.from_dut(dut)          -> dut.clk, dut.rst_n (+ host_clk_req when present)

Optional signals are None when the scope lacks them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


def _find(scope, name: str, optional: bool):
    try:
        return getattr(scope, name)
    except AttributeError:
        if optional:
            return None
        raise AttributeError(f"{scope._path}: no signal {name!r} (bus prefix wrong?)") from None


class _Bus:
    _OPTIONAL: tuple[str, ...] = ()

    @classmethod
    def from_prefix(cls, scope, prefix: str):
        """The bus whose signals are ``<prefix>_<field>`` (or ``<prefix><field>`` when the
        prefix is one letter, as APB's ``p``) in ``scope``."""
        sep = "" if len(prefix) == 1 else "_"
        kw = {f.name: _find(scope, f"{prefix}{sep}{f.name}", f.name in cls._OPTIONAL)
              for f in fields(cls)}
        return cls(**kw)


@dataclass
class AerBus(_Bus):
    """AER 4-phase: request (out of the chip), acknowledge (into it), address."""

    req: object
    ack: object
    addr: object


@dataclass
class ApbBus(_Bus):
    """APB3 slave port."""

    sel: object
    enable: object
    write: object
    addr: object
    wdata: object
    rdata: object
    ready: object
    slverr: object


@dataclass
class AnalogBus(_Bus):
    """The analog boundary of rtl/REGISTERS.md: sample strobe, channel select and flags,
    accumulator reset pulses, programming pulses."""

    sample: object
    ch_sel: object
    flags: object
    rst: object
    rst_all: object
    rst_ch: object
    rst_mask: object
    prog: object
    prog_target: object
    prog_index: object
    prog_dir: object
    _OPTIONAL = ("rst", "rst_all", "rst_ch", "rst_mask", "prog", "prog_target", "prog_index",
                 "prog_dir")


@dataclass
class ClockReset:
    """The readout clock, the reset, and the host's clock request (p2m_tb: ``host_clk_req``
    starts the clock source for the host; None on a block toplevel with a free clock)."""

    clk: object
    rst_n: object
    host_clk_req: object | None = None

    @classmethod
    def from_dut(cls, dut, clk: str = "clk", rst_n: str = "rst_n") -> ClockReset:
        return cls(_find(dut, clk, False), _find(dut, rst_n, False),
                   _find(dut, "host_clk_req", True))
