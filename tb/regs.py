"""The `p2m_top` register map (rtl/REGISTERS.md, contract v2) as Python data.

One source of truth for the testbenches: the APB register helpers (`tb.apb_agent`), the CSR
test (reset values, access rules) and the programming sequences read it. Addresses are APB
byte addresses; every register is 32 bits wide.

Access kinds: ``RW`` read/write, ``RO`` read-only (a write answers PSLVERR and has no effect),
``RW1C`` = RO bits plus write-one-to-clear bits (STATUS), ``W1P`` write-one-to-pulse (reads 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: ID register value: "P2M" + contract version 2.
ID_VALUE = 0x50324D02

#: `phase` debug output / STATUS.PHASE encodings.
PHASE = {"IDLE": 0, "INTEGRATE": 1, "SAMPLE": 2, "READOUT": 3, "RESET": 4, "GRESET": 5,
         "PROGRAM": 6}

#: `ana_prog_target` encodings.
TARGET_WEIGHT, TARGET_TH_TOP, TARGET_TH_BOT = 0, 1, 2


@dataclass(frozen=True)
class Field:
    """A register field: bits [msb:lsb], its access kind and reset value."""

    name: str
    msb: int
    lsb: int
    access: str
    reset: int = 0
    min_one: bool = False  # documented ">= 1": a write of 0 stores 1

    @property
    def mask(self) -> int:
        return ((1 << (self.msb - self.lsb + 1)) - 1) << self.lsb

    def get(self, word: int) -> int:
        return (word & self.mask) >> self.lsb

    def put(self, word: int, value: int) -> int:
        width = self.msb - self.lsb + 1
        if not 0 <= value < (1 << width):
            raise ValueError(f"{self.name}: value {value} does not fit in {width} bits")
        return (word & ~self.mask) | (value << self.lsb)


@dataclass(frozen=True)
class Reg:
    """A 32-bit register at byte address ``addr``."""

    name: str
    addr: int
    access: str  # RW, RO, RW1C (STATUS), W1P
    reset: int
    fields: tuple[Field, ...] = field(default_factory=tuple)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise ValueError(f"register {self.name} has no field {name!r}")

    @property
    def writable_mask(self) -> int:
        """Bits that hold a written value (RW fields)."""
        m = 0
        for f in self.fields:
            if f.access == "RW":
                m |= f.mask
        return m


def register_map(index_bits: int = 10, ch_bits: int = 5, y_bits: int = 4,
                 x_bits: int = 4) -> tuple[Reg, ...]:
    """The register map for a geometry: PROG_ADDR.INDEX is ``index_bits`` wide (PROG_IDX_BITS)
    and PROBE packs {CH, Y, X} like ``aer_addr`` (rtl/REGISTERS.md "Parameters"); the
    defaults are the paper geometry's. ``tb.config.Geometry`` gives the widths."""
    return _regs(index_bits, ch_bits, y_bits, x_bits)


def _regs(ib: int, cb: int, yb: int, xb: int) -> tuple[Reg, ...]:
    return (
        Reg("ID", 0x000, "RO", ID_VALUE, (Field("ID", 31, 0, "RO", ID_VALUE),)),
        Reg("CTRL", 0x004, "RW", 0x0, (Field("EN", 0, 0, "RW"), Field("GRST", 1, 1, "W1P"),
                                       Field("CNT_CLR", 2, 2, "W1P"))),
        Reg("STATUS", 0x008, "RW1C", 0x0, (Field("BUSY", 0, 0, "RO"), Field("PROG_BUSY", 1, 1, "RO"),
                                           Field("PROG_DONE", 2, 2, "W1C"),
                                           Field("GRST_BUSY", 3, 3, "RO"),
                                           Field("OVERRUN", 4, 4, "W1C"),
                                           Field("CFG_BUSY", 5, 5, "RO"),
                                           Field("PHASE", 10, 8, "RO"))),
        Reg("TICK_DIV", 0x00C, "RW", 1, (Field("TICK_DIV", 15, 0, "RW", 1, True),)),
        Reg("WINDOW_LEN", 0x010, "RW", 10000, (Field("WINDOW_LEN", 23, 0, "RW", 10000, True),)),
        Reg("RST_WIDTH", 0x014, "RW", 16, (Field("RST_WIDTH", 15, 0, "RW", 16, True),)),
        Reg("PROG_SET_WIDTH", 0x018, "RW", 4, (Field("PROG_SET_WIDTH", 15, 0, "RW", 4, True),)),
        Reg("PROG_RST_WIDTH", 0x01C, "RW", 32, (Field("PROG_RST_WIDTH", 15, 0, "RW", 32, True),)),
        Reg("PROG_GAP", 0x020, "RW", 2, (Field("PROG_GAP", 15, 0, "RW", 2, True),)),
        Reg("PROG_ADDR", 0x024, "RW", 0x0, (Field("INDEX", ib - 1, 0, "RW"),
                                            Field("TARGET", 13, 12, "RW"))),
        Reg("PROG_CODE", 0x028, "RW", 0x0, (Field("CODE", 7, 0, "RW"),)),
        Reg("PROG_CMD", 0x02C, "W1P", 0x0, (Field("START", 0, 0, "W1P"),)),
        Reg("CNT_EVENTS", 0x030, "RO", 0, (Field("CNT_EVENTS", 31, 0, "RO"),)),
        Reg("CNT_WINDOWS", 0x034, "RO", 0, (Field("CNT_WINDOWS", 31, 0, "RO"),)),
        Reg("CNT_SPIKES_LAST", 0x038, "RO", 0, (Field("CNT_SPIKES_LAST", 31, 0, "RO"),)),
        Reg("CNT_OVERRUN", 0x03C, "RO", 0, (Field("CNT_OVERRUN", 31, 0, "RO"),)),
        Reg("PROBE", 0x040, "RW", 0x0, (Field("X", xb - 1, 0, "RW"), Field("Y", xb + yb - 1, xb, "RW"),
                                        Field("CH", xb + yb + cb - 1, xb + yb, "RW"))),
        Reg("IRQ_EN", 0x044, "RW", 0x0, (Field("PROG_DONE", 0, 0, "RW"), Field("OVERRUN", 1, 1, "RW"))),
    )


#: The register map of the default (paper) geometry.
REGS: tuple[Reg, ...] = register_map()

BY_NAME: dict[str, Reg] = {r.name: r for r in REGS}
BY_ADDR: dict[int, Reg] = {r.addr: r for r in REGS}

#: Registers whose write is refused (PSLVERR, no effect) while STATUS.PROG_BUSY.
PROG_LOCKED = ("PROG_ADDR", "PROG_CODE", "PROG_CMD", "PROG_SET_WIDTH", "PROG_RST_WIDTH",
               "PROG_GAP")


def reg(name: str) -> Reg:
    """The register called ``name`` (ValueError naming it when unknown)."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(f"name: unknown register {name!r}") from None


def pack(name: str, **fields: int) -> int:
    """A register word with the given fields set, e.g. ``pack("PROG_ADDR", INDEX=3, TARGET=1)``."""
    r = reg(name)
    word = 0
    for fname, value in fields.items():
        word = r.field(fname).put(word, int(value))
    return word
