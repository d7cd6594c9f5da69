"""APB3 agent (pyuvm): sequence item, driver with PSLVERR checking, agent, register helpers.

The driver runs one transfer per item: setup phase (psel, paddr, pwrite, pwdata) at a rising
edge, access phase (penable) at the next one, then it samples ``pready``, ``prdata`` and
``pslverr`` in the access phase (ReadOnly, after the combinational settle) and ends the
transfer at the following edge (``pready`` is always 1: zero wait states, REGISTERS.md; the
driver still waits while it is 0, up to a bound). Completed items go out on the agent's
analysis port ``ap``. The driver works on an :class:`~tb.buses.ApbBus` (ConfigDB key
``apb_bus``) clocked by the ``clock_reset`` bus's ``clk``; it holds the host's clock request
(``host_clock``, :class:`~tb.common.HostClock`) for each transfer, since the chip's readout
clock runs only on request (REGISTERS.md "Clocking and clock-domain crossings").

:class:`RegBlock` is the register helper of a test: ``await regs.write("CTRL", 1)``,
``await regs.read("STATUS")``, ``await regs.write_fields("PROG_ADDR", INDEX=3, TARGET=1)``.
It checks PSLVERR against the expectation (``expect_err``: False by default, True for an
access that must be refused) and keeps a mirror of the last accepted RW values, which the
scoreboards read (RST_WIDTH, PROG_* widths).
"""

from __future__ import annotations

from cocotb.triggers import ReadOnly, RisingEdge
from pyuvm import (
    uvm_agent,
    uvm_analysis_port,
    uvm_driver,
    uvm_sequence,
    uvm_sequence_item,
    uvm_sequencer,
)

from tb import config, regs
from tb.common import now_ps, sig_int
from tb.coverage import DB


class ApbError(AssertionError):
    """An APB access whose PSLVERR or read data disagrees with the expectation."""


class ApbItem(uvm_sequence_item):
    """One APB transfer. ``addr`` byte address, ``data`` write data; after the transfer
    ``rdata`` (read data), ``slverr`` (PSLVERR in the access phase), ``t_ps`` (end time)."""

    def __init__(self, name: str = "apb_item", addr: int = 0, write: bool = False,
                 data: int = 0) -> None:
        super().__init__(name)
        self.addr, self.write, self.data = int(addr), bool(write), int(data)
        self.rdata = 0
        self.slverr = False
        self.t_ps = 0

    def __str__(self) -> str:
        op = f"W 0x{self.data:08x}" if self.write else f"R -> 0x{self.rdata:08x}"
        return f"APB 0x{self.addr:03x} {op} slverr={int(self.slverr)}"


class ApbOneSeq(uvm_sequence):
    """A sequence of exactly one transfer (the item is filled in place)."""

    def __init__(self, item: ApbItem, name: str = "apb_one") -> None:
        super().__init__(name)
        self.item = item

    async def body(self) -> None:
        await self.start_item(self.item)
        await self.finish_item(self.item)


class ApbDriver(uvm_driver):
    """Drives `p2m_top`'s APB3 slave port; see the module docstring for the timing."""

    MAX_WAIT = 64  # cycles of pready = 0 before the driver calls the slave hung

    def build_phase(self) -> None:
        self.ap = uvm_analysis_port("ap", self)

    def start_of_simulation_phase(self) -> None:
        self.bus = config.get(self, "apb_bus")
        self.clk = config.get(self, "clock_reset").clk
        self.host_clock = config.get(self, "host_clock")

    async def run_phase(self) -> None:
        b, clk = self.bus, self.clk
        while True:
            item = await self.seq_item_port.get_next_item()
            self.host_clock.acquire()
            try:
                await RisingEdge(clk)
                b.sel.value = 1
                b.enable.value = 0
                b.write.value = int(item.write)
                b.addr.value = item.addr
                b.wdata.value = item.data if item.write else 0
                await RisingEdge(clk)
                b.enable.value = 1
                for _ in range(self.MAX_WAIT):
                    await ReadOnly()
                    if sig_int(b.ready) == 1:
                        break
                    await RisingEdge(clk)
                else:
                    raise ApbError(f"APB slave never answered pready for {item}")
                item.rdata = max(sig_int(b.rdata, 0), 0)
                item.slverr = sig_int(b.slverr) == 1
                await RisingEdge(clk)
                item.t_ps = now_ps()
                b.sel.value = 0
                b.enable.value = 0
                b.write.value = 0
            finally:
                self.host_clock.release()
            self.ap.write(item)
            self.seq_item_port.item_done()


class ApbAgent(uvm_agent):
    """Sequencer + driver of the APB port."""

    def build_phase(self) -> None:
        self.seqr = uvm_sequencer("seqr", self)
        self.driver = ApbDriver("driver", self)

    def connect_phase(self) -> None:
        self.driver.seq_item_port.connect(self.seqr.seq_item_export)
        self.ap = self.driver.ap


class RegBlock:
    """Register helpers over an :class:`ApbAgent` (names from :mod:`tb.regs`; the map of the
    chip's geometry: PROG_ADDR.INDEX and PROBE field widths, ``regs.register_map``)."""

    def __init__(self, agent: ApbAgent, regmap: tuple[regs.Reg, ...] = regs.REGS) -> None:
        self.agent = agent
        self.map = {r.name: r for r in regmap}
        self.mirror: dict[str, int] = {r.name: r.reset for r in regmap}
        self.cov = DB.group("csr")
        self.cov.point("reg_access", [(f"{r.name} {op}", (lambda v, r=r, op=op: v == (r.name, op)))
                                      for r in regmap for op in ("R", "W")])
        self.cov.point("pslverr", [("ok", 0), ("error", 1)])

    def reg(self, name: str) -> regs.Reg:
        """The register ``name`` of this chip's map (ValueError naming it when unknown)."""
        try:
            return self.map[name]
        except KeyError:
            raise ValueError(f"name: unknown register {name!r}") from None

    def reset_mirror(self) -> None:
        """Back to the reset values (after rst_n)."""
        self.mirror = {r.name: r.reset for r in self.map.values()}

    async def transfer(self, addr: int, write: bool, data: int = 0,
                       expect_err: bool | None = False) -> ApbItem:
        """One raw transfer; ``expect_err`` None skips the PSLVERR check."""
        item = ApbItem("apb", addr, write, data)
        await ApbOneSeq(item).start(self.agent.seqr)
        r = regs.BY_ADDR.get(addr & ~3)
        if r is not None:
            self.cov.sample("reg_access", (r.name, "W" if write else "R"))
        self.cov.sample("pslverr", int(item.slverr))
        if expect_err is not None and item.slverr != expect_err:
            raise ApbError(f"{item}: expected pslverr={int(expect_err)} "
                           f"({'illegal' if expect_err else 'legal'} access), got {int(item.slverr)}")
        return item

    async def write(self, name: str, value: int, expect_err: bool = False) -> ApbItem:
        """Write ``value`` to register ``name``; PSLVERR must equal ``expect_err``."""
        r = self.reg(name)
        item = await self.transfer(r.addr, True, int(value) & 0xFFFFFFFF, expect_err)
        if not item.slverr and r.access == "RW":
            self.mirror[name] = self._stored(r, int(value))
        return item

    async def write_fields(self, name: str, expect_err: bool = False, **fields: int) -> ApbItem:
        r, word = self.reg(name), 0
        for fname, v in fields.items():
            word = r.field(fname).put(word, int(v))
        return await self.write(name, word, expect_err)

    async def read(self, name: str, expect_err: bool = False) -> int:
        """Read register ``name`` (PSLVERR must equal ``expect_err``); returns the data."""
        item = await self.transfer(self.reg(name).addr, False, 0, expect_err)
        return item.rdata

    async def read_field(self, name: str, fname: str) -> int:
        return self.reg(name).field(fname).get(await self.read(name))

    @staticmethod
    def _stored(r: regs.Reg, value: int) -> int:
        """What a RW register holds after a write of ``value`` (">= 1" fields store 1 for 0)."""
        word = 0
        for f in r.fields:
            if f.access != "RW":
                continue
            v = f.get(value)
            if f.min_one and v == 0:
                v = 1
            word = f.put(word, v)
        return word

    def value(self, name: str, fname: str | None = None) -> int:
        """Mirrored value of a RW register (or one of its fields)."""
        word = self.mirror[name]
        return self.reg(name).field(fname).get(word) if fname else word
