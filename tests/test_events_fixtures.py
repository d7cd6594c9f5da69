"""Hand-built AEDAT 2.0 / 3.1 / 4.0 fixtures, decoded values derived from the specifications.

The other reader tests round-trip through the ``events`` package's own writers, so a
misreading shared by a reader and its writer would pass them. Here every byte is written out with
``struct.pack`` from the published layouts (nothing from ``events`` is used to
build them), and the expected x, y, t, p are worked out by hand in the comments.

Sources (read for this file):

* [A1] iniVation, "AEDAT 1.0" / "AEDAT 2.0" pages,
  https://docs.inivation.com/software/software-advanced-usage/file-formats/aedat-1.0.html
  and .../aedat-2.0.html: 8 bytes per event, "[address, timestamp] pairs", int32 address
  + int32 timestamp in microseconds, "All integer data and fields are always signed and
  big-endian!"; the address "has to be interpreted according to a specific jAER AEChip
  class' definition"; jAER's header lines ("# This is a raw AE data file - do not
  edit", "# Data format is int32 address, int32 timestamp (8 bytes total), repeated for
  each event", "# Timestamps tick is 1 us", "# created ...", "# AEChip: ...").
  DVS128 bit table: bit 15 external event, bits 14-8 Y, bits 7-1 X, bit 0 polarity.
* [J1] jAER ``src/ch/unizh/ini/jaer/chip/retina/DVS128.java`` (SensorsINI/jaer),
  ``DVS128.Extractor``: XMASK 0xfe, XSHIFT 1, YMASK 0x7f00, YSHIFT 8,
  ``e.x = sxm - ((addr & XMASK) >>> XSHIFT)`` (sxm = 127), ``e.y = (addr & YMASK) >>> YSHIFT``,
  ``e.type = (1 - addr) & 1`` with type 0 = OFF, 1 = ON ("The ON events have raw polarity
  0"), and ``addr & (SYNC_EVENT_BITMASK | BasicEvent.SPECIAL_EVENT_BIT_MASK)`` = 0x8000 |
  0x80000000 marks a special (sync / external) event, which is not a pixel event.
* [J2] jAER ``src/net/sf/jaer/eventio/AEDataFile.java``: header lines start with '#',
  ``END_OF_HEADER_STRING = "End Of ASCII Header"`` ("Used to mark end of header block
  after 15.11.2016. Next line starts binary data"); AEDAT 2.0 has no ``#!END-HEADER``
  line (that is AEDAT 3.1's).
* [M1] SensorsINI/processAEDAT ``matlab/retina/extractRetina128EventsFromAddr.m`` (the
  dat2mat-era MATLAB reader): ``x = 127 - bitshift(bitand(addr, 0xfE), -1)``,
  ``y = bitshift(bitand(addr, 0x7f00), -8)``, ``pol = 1 - 2*bitand(addr, 1)`` (1 ON, -1 OFF).
* [C0] libcaer ``src/dvs128.c`` (DVS128 USB decoding): x and y both inverted, and
  "Invert polarity bit. Hardware is like this." (bit clear -> ON).
* [S1] SpikingJelly ``spikingjelly/datasets/cifar10_dvs.py`` (fangwei123456/spikingjelly):
  ``_skip_header`` (skip '#' lines), ``_load_raw_events`` (``np.frombuffer(data, '>u4')``,
  address = even words, timestamp = odd words, no special-event filter by default),
  ``_load_origin_data``: masks 0xFE >> 1 and 0x7F00 >> 8, polarity mask 1, and returns
  ``x = 127 - y, y = 127 - x, p = 1 - p`` (the jackd/events-tfds PR 1 orientation).
* [T1] tonic ``tonic/io.py`` (neuromorphs/tonic): ``read_aedat_header_from_file`` (skips
  lines whose first byte is '#'), ``get_aer_events_from_file`` (AEDAT 2: ``>u4`` address and
  timestamp; AEDAT 3: reads eventCapacity little-endian (address, timestamp) pairs after
  every 28-byte packet header, whatever the packet type, and ignores eventTSOverflow),
  ``read_dvs_128``: ``x = (addr >> 8) & 0x7F, y = (addr >> 1) & 0x7F, p = addr & 1``;
  ``read_dvs_ibm``: ``x = (addr >> 17) & 0x1FFF, y = (addr >> 2) & 0x1FFF,
  p = (addr >> 1) & 1``. tonic's ``CIFAR10DVS`` class reads tonic's own ``.aedat4``
  re-encoding, not the original AEDAT 2.0 files.
* [A3] iniVation "AEDAT 3.1" page (.../aedat-3.1.html): header lines ``#!AER-DAT3.1``,
  ``#Format: RAW``, ``#Source <ID>: <DESCRIPTION>``, ``#Start-Time: ...``, last
  ``#!END-HEADER``; "All integer data and fields are always signed and little-endian".
* [C1] libcaer ``include/events/common.h``: the 28-byte packet header {int16 eventType,
  int16 eventSource, int32 eventSize, int32 eventTSOffset, int32 eventTSOverflow, int32
  eventCapacity, int32 eventNumber ("valid + invalid"), int32 eventValid}; SPECIAL_EVENT =
  0, POLARITY_EVENT = 1; validity mark = bit 0 of the first field (0 = invalid);
  64-bit time = (eventTSOverflow << TS_OVERFLOW_SHIFT (31)) | 32-bit timestamp.
* [C2] libcaer ``include/events/polarity.h``: struct {uint32 data; int32 timestamp};
  POLARITY_SHIFT 1, Y_ADDR_SHIFT 2 / mask 0x7FFF, X_ADDR_SHIFT 17 / mask 0x7FFF.
* [S2] SpikingJelly ``load_aedat_v3`` (datasets/utils.py, used by dvs128_gesture.py):
  skips header up to ``#!END-HEADER\\r\\n``, reads eventCapacity * eventSize bytes per
  packet, type 1 only, t = timestamp | eventTSOverflow << 31, x/y/p with the [C2]
  shifts; it does not test the validity bit.
* [A4] iniVation "AEDAT 4.0" page (.../aedat-4.0.html): every flatbuffer size-prefixed
  (uint32 little-endian); packets = PacketHeader {int32 streamID, int32 size} + content;
  dataTablePosition -1 = no table. Schemas (copies in SensorsINI/jaer
  ``src/net/sf/jaer/eventio/aedat4/schemas/``): ``IOHeader.fbs`` (file_identifier
  "IOHE"; table IOHeader {compression: CompressionType = NONE; dataTablePosition: int64 =
  -1; infoNode: string}) and ``event.fbs`` (file_identifier "EVTS"; struct Event
  {timestamp: int64; x: int16; y: int16; polarity: bool}; table EventPacket {elements:
  [Event]}).

Which convention the project follows for CIFAR10-DVS: ``address_map='cifar10dvs'`` is
SpikingJelly's [S1] (transposed and flipped, upright images); the default ``'jaer'`` is
jAER's own extractor [J1] and [M1]; ``'raw'`` is the bit table of [A1] read literally.
Note that [A1]'s table says bit 0 = 1 is ON and shows no X flip, while the jAER code
that defines the address ([J1], by [A1]'s own words), MATLAB [M1] and libcaer [C0] all
read bit 0 = 0 as ON and mirror X: the readers follow the code. tonic's ``read_dvs_128``
[T1] is a plain transposition (no flips, no polarity inversion), so it is NOT the same
as ``'cifar10dvs'``; the tests below state both relations exactly.

The fixtures are also stored in ``tests/data/`` (``python tests/test_events_fixtures.py``
rewrites them); ``test_stored_fixtures_match`` checks the stored bytes equal the ones
built here.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from events import EventFormatError, detect_format, read_events

DATA = Path(__file__).parent / "data"
CRLF = b"\r\n"


# ==================================================================== AEDAT 2.0 (jAER)

def dvs128_addr(x_raw: int, y_raw: int, bit0: int) -> int:
    """[A1] DVS128 table: bits 14-8 Y, bits 7-1 X, bit 0 polarity bit (raw, before the
    jAER extractor's flips)."""
    assert 0 <= x_raw < 128 and 0 <= y_raw < 128 and bit0 in (0, 1)
    return (y_raw << 8) | (x_raw << 1) | bit0


AEDAT2_HEADER = [
    b"#!AER-DAT2.0",                                        # [A1] version line
    b"# This is a raw AE data file - do not edit",          # [A1] jAER info lines
    b"# Data format is int32 address, int32 timestamp (8 bytes total), "
    b"repeated for each event",
    b"# Timestamps tick is 1 us",
    b"# created Mon Feb 27 10:12:03 CST 2017",
    b"# AEChip: ch.unizh.ini.jaer.chip.retina.DVS128",
    b"# DataStartTime: System.currentTimeMillis() 1488161523000",
    b"# End Of ASCII Header",                               # [J2] jAER >= 2016
]

# (address, int32 timestamp) records; int32 fields are signed big-endian [A1].
# Pixel events give (x_raw, y_raw, bit0); the expected decodings are below.
AEDAT2_RECORDS = [
    (dvs128_addr(20, 10, 0), 1000),        # e0
    (dvs128_addr(0, 0, 1), 1005),          # e1
    (dvs128_addr(127, 127, 0), 1005),      # e2 (same timestamp: allowed)
    (0x8000 | dvs128_addr(3, 0, 0), 1010),  # external input event, bit 15 [A1]/[J1]
    (dvs128_addr(64, 1, 1), 2_000_000),    # e3
    (0x80000000, 2_000_001),               # jAER special event, bit 31 [J1]
    (dvs128_addr(5, 100, 0), 2_000_002),   # e4 (address low byte 0x0A = '\n')
]
# Raw fields of the five pixel events e0..e4: x_raw, y_raw, bit0, t.
E_RAW = [(20, 10, 0, 1000), (0, 0, 1, 1005), (127, 127, 0, 1005), (64, 1, 1, 2_000_000),
         (5, 100, 0, 2_000_002)]
# 'jaer' [J1]/[M1]: x = 127 - x_raw, y = y_raw, p = 1 - bit0 (bit0 = 0 is ON):
#   e0: (107, 10, 1)  e1: (127, 0, 0)  e2: (0, 127, 1)  e3: (63, 1, 0)  e4: (122, 100, 1)
JAER_XYP = [(107, 10, 1), (127, 0, 0), (0, 127, 1), (63, 1, 0), (122, 100, 1)]
# 'cifar10dvs' [S1]: x = 127 - y_raw, y = 127 - x_raw, p = 1 - bit0:
#   e0: (117, 107, 1)  e1: (127, 127, 0)  e2: (0, 0, 1)  e3: (126, 63, 0)  e4: (27, 122, 1)
CIFAR_XYP = [(117, 107, 1), (127, 127, 0), (0, 0, 1), (126, 63, 0), (27, 122, 1)]
# 'raw' ([A1]'s table read literally): x = x_raw, y = y_raw, p = bit0.
RAW_XYP = [(20, 10, 0), (0, 0, 1), (127, 127, 0), (64, 1, 1), (5, 100, 0)]
T_US = [1000, 1005, 1005, 2_000_000, 2_000_002]


def aedat2_bytes(records, header=AEDAT2_HEADER) -> bytes:
    head = b"".join(line + CRLF for line in header)          # '#' lines end in CRLF [A1]
    # address: the 32-bit pattern (bit 31 may be set); timestamp: signed int32, big-endian
    body = b"".join(struct.pack(">Ii", a & 0xFFFFFFFF, t) for a, t in records)
    return head + body


def sj_cifar10dvs(data: bytes) -> dict:
    """SpikingJelly's CIFAR10-DVS reading [S1], re-typed here (no spikingjelly import)."""
    lines = data.split(b"\n")
    p = 0
    for ln in lines:                    # _skip_header: '#' lines (decoded, stripped)
        try:
            ltd = (ln + b"\n").decode().strip()
        except UnicodeDecodeError:
            break
        if not ltd or ltd[0] != "#":
            break
        p += len(ln) + 1
    words = np.frombuffer(data[p:], dtype=">u4")
    addr, ts = words[::2], words[1::2]
    x = (addr & 0xFE) >> 1
    y = (addr & 0x7F00) >> 8
    pol = (addr & 1).astype(bool)
    return {"t": ts, "x": 127 - y, "y": 127 - x, "p": 1 - pol.astype(int), "addr": addr}


def tonic_dvs128(data: bytes) -> dict:
    """tonic's ``read_aedat_header_from_file`` + ``read_dvs_128`` [T1], re-typed."""
    pos = 0
    while data[pos:pos + 1] == b"#":    # read 1 byte; '#': rest of the line is header
        pos = data.index(b"\n", pos) + 1
    ev = np.frombuffer(data[pos:], dtype=[("address", ">u4"), ("timeStamp", ">u4")])
    a = ev["address"]
    return {"x": (a >> 8) & 0x7F, "y": (a >> 1) & 0x7F, "p": a & 1, "t": ev["timeStamp"],
            "addr": a}


@pytest.fixture()
def cifar_file(tmp_path):
    p = tmp_path / "cifar10_cat_0.aedat"
    p.write_bytes(aedat2_bytes(AEDAT2_RECORDS))
    return p


def _xyp(ev):
    return [(int(a), int(b), int(c)) for a, b, c in zip(ev["x"], ev["y"], ev["p"], strict=True)]


def test_aedat2_header_and_layout(cifar_file):
    data = cifar_file.read_bytes()
    assert detect_format(cifar_file) == "aedat2"
    s = read_events(cifar_file)
    head_len = sum(len(x) + 2 for x in AEDAT2_HEADER)
    assert s.info["header_bytes"] == head_len
    assert len(data) == head_len + 8 * len(AEDAT2_RECORDS)  # 8 bytes per event [A1]
    # the first address byte is 0x00, never '#': the '#'-line header skip is unambiguous
    assert data[head_len] == 0


@pytest.mark.parametrize("amap,expected", [("jaer", JAER_XYP), ("cifar10dvs", CIFAR_XYP),
                                           ("raw", RAW_XYP)])
def test_aedat2_decoded_values(cifar_file, amap, expected):
    s = read_events(cifar_file, address_map=amap)
    assert s.sensor_size == (128, 128)
    assert _xyp(s.events) == expected
    assert s.events["t"].tolist() == T_US
    # both special records (bit 15 external input, bit 31 jAER special) are skipped
    assert s.info["special_events_skipped"] == 2
    assert s.info["timestamp_wraps"] == 0


def test_aedat2_matches_spikingjelly_and_tonic(cifar_file):
    data = cifar_file.read_bytes()
    ours = read_events(cifar_file, address_map="cifar10dvs").events
    sj = sj_cifar10dvs(data)
    tn = tonic_dvs128(data)
    # SpikingJelly does not filter special events (filter_dvs=False in _load_origin_data):
    # the bit-15 / bit-31 records become pixel events there. Compare on pixel records.
    pix = (sj["addr"] & 0x80008000) == 0
    assert pix.sum() == 5
    sj_xyp = zip(sj["x"][pix].tolist(), sj["y"][pix].tolist(), sj["p"][pix].tolist(),
                 strict=True)
    assert list(sj_xyp) == _xyp(ours)
    assert sj["t"][pix].tolist() == ours["t"].tolist()
    # SpikingJelly's commented-out alternative (x = 127 - x, y = y, p = 1 - p, "the same
    # data as the MNIST-DVS .mat") is exactly the jAER map.
    jaer = read_events(cifar_file, address_map="jaer").events
    sj_x_raw = (sj["addr"][pix] & 0xFE) >> 1
    sj_y_raw = (sj["addr"][pix] & 0x7F00) >> 8
    assert (127 - sj_x_raw).tolist() == jaer["x"].tolist()
    assert sj_y_raw.tolist() == jaer["y"].tolist()
    # tonic's read_dvs_128 is a plain transposition: x = y_raw, y = x_raw, p = bit0.
    # The project's 'cifar10dvs' map = (127 - tonic x, 127 - tonic y, 1 - tonic p).
    tp = (tn["addr"] & 0x80008000) == 0
    assert (127 - tn["x"][tp]).tolist() == ours["x"].tolist()
    assert (127 - tn["y"][tp]).tolist() == ours["y"].tolist()
    assert (1 - tn["p"][tp]).tolist() == ours["p"].tolist()
    assert tn["t"][tp].tolist() == ours["t"].tolist()


def test_aedat2_bits_16_to_30_are_an_error(tmp_path):
    p = tmp_path / "bad.aedat"
    p.write_bytes(aedat2_bytes([(dvs128_addr(1, 2, 0), 5), (0x00010000, 6)]))
    with pytest.raises(EventFormatError, match="event index 1.*bits 16..30") as ei:
        read_events(p)
    assert ei.value.offset == sum(len(x) + 2 for x in AEDAT2_HEADER) + 8


# ------------------------------------------------------------------ AEDAT 2.0 32-bit wrap

# The int32 timestamp is read as its 32-bit pattern (unsigned, like [S1]/[T1]), so the
# signed overflow 2^31 - 1 -> -2^31 is a +1 step; the pattern wraps 0xFFFFFFFF -> 0 after
# 2^32 us (71.6 min). A backward jump of more than 2^31 (half the range) is a wrap.
WRAP_RECORDS = [
    (dvs128_addr(1, 1, 0), 2_147_483_000),    # 0x7FFFFD78
    (dvs128_addr(2, 1, 0), -2_147_483_000),   # 0x80000288 = 2_147_484_296 (signed overflow)
    (dvs128_addr(3, 1, 0), -1),               # 0xFFFFFFFF = 4_294_967_295
    (dvs128_addr(4, 1, 0), 0),                # wrap: 2^32 + 0
    (dvs128_addr(5, 1, 1), 700),              # 2^32 + 700
    (dvs128_addr(6, 1, 1), -2_147_483_648),   # 0x80000000: 2^32 + 2^31 (step < 2^31)
    (dvs128_addr(7, 1, 1), -2_000),           # 0xFFFFF830: 2^32 + 4_294_965_296
    (dvs128_addr(8, 1, 1), 3),                # second wrap: 2^33 + 3
]
WRAP_T = [2_147_483_000, 2_147_484_296, 4_294_967_295, 4_294_967_296, 4_294_967_996,
          6_442_450_944, 8_589_932_592, 8_589_934_595]


def test_aedat2_timestamp_wrap_unwrapped(tmp_path):
    p = tmp_path / "wrap.aedat"
    p.write_bytes(aedat2_bytes(WRAP_RECORDS))
    s = read_events(p)
    assert s.events["t"].tolist() == WRAP_T
    assert s.info["timestamp_wraps"] == 2
    assert s.events["x"].tolist() == [126, 125, 124, 123, 122, 121, 120, 119]  # 127 - x_raw
    assert "sorted_moved_events" not in s.info


def test_aedat2_wrap_with_late_event_and_gap(tmp_path):
    # A late event from before the wrap (0xFFFFFFFE after 5) is un-wrapped back, and then
    # is a 7 us backward step: an error unless the tolerance allows it.
    recs = [(dvs128_addr(1, 1, 0), -16), (dvs128_addr(2, 1, 0), 5),
            (dvs128_addr(3, 1, 0), -2), (dvs128_addr(4, 1, 0), 9)]
    p = tmp_path / "late.aedat"
    p.write_bytes(aedat2_bytes(recs))
    with pytest.raises(EventFormatError, match="event index 2.*backwards by 7 us"):
        read_events(p)
    s = read_events(p, time_tolerance_us=7)
    assert s.events["t"].tolist() == [4_294_967_280, 4_294_967_294, 4_294_967_301,
                                      4_294_967_305]
    assert s.info["timestamp_wraps"] == 1 and s.info["sorted_moved_events"] == 2
    # A forward jump of more than 2^31 with no wrap to undo is a gap, left as it is.
    q = tmp_path / "gap.aedat"
    q.write_bytes(aedat2_bytes([(dvs128_addr(1, 1, 0), 10),
                                (dvs128_addr(1, 1, 0), -1_294_967_296)]))  # 3e9 unsigned
    g = read_events(q)
    assert g.events["t"].tolist() == [10, 3_000_000_000] and g.info["timestamp_wraps"] == 0


# ==================================================================== AEDAT 3.1 (cAER)

AEDAT3_HEADER = [b"#!AER-DAT3.1", b"#Format: RAW", b"#Source 1: DVS128",
                 b"#Start-Time: 2016-08-31 10:11:12 (TZ+0100)", b"#!END-HEADER"]  # [A3]


def caer_packet_header(etype, source, size, ts_offset, ts_overflow, capacity, number,
                       valid) -> bytes:
    """[C1] 28 bytes, little-endian [A3]: int16 eventType, int16 eventSource, int32
    eventSize, eventTSOffset, eventTSOverflow, eventCapacity, eventNumber, eventValid."""
    return struct.pack("<hhiiiiii", etype, source, size, ts_offset, ts_overflow, capacity,
                       number, valid)


def caer_polarity(x, y, pol, valid, ts) -> bytes:
    """[C2] uint32 data = x << 17 | y << 2 | polarity << 1 | valid (bit 0 [C1]), int32 ts."""
    return struct.pack("<Ii", (x << 17) | (y << 2) | (pol << 1) | valid, ts)


def aedat31_bytes() -> bytes:
    out = [b"".join(line + CRLF for line in AEDAT3_HEADER)]
    # packet 0: SPECIAL_EVENT (type 0 [C1]), one 8-byte event: skipped by the reader
    out.append(caer_packet_header(0, 1, 8, 4, 0, 1, 1, 1))
    out.append(struct.pack("<Ii", (1 << 1) | 1, 0))
    # packet 1: POLARITY_EVENT (type 1), tsOverflow 1, 3 events, one marked invalid
    out.append(caer_packet_header(1, 1, 8, 4, 1, 3, 3, 2))
    out.append(caer_polarity(3, 4, 1, 1, 100))            # a: t = 2^31 | 100
    out.append(caer_polarity(5, 6, 0, 0, 150))            # b: invalid (bit 0 = 0)
    out.append(caer_polarity(127, 0, 0, 1, 0x7FFFFFFF))   # c: t = 2^31 | (2^31 - 1)
    # packet 2: POLARITY_EVENT, tsOverflow 2, one event
    out.append(caer_packet_header(1, 1, 8, 4, 2, 1, 1, 1))
    out.append(caer_polarity(0, 127, 1, 1, 7))            # d: t = 2 * 2^31 + 7
    return b"".join(out)


# Expected, from [C1]/[C2]: t = (tsOverflow << 31) | ts; x, y, p as stored (cAER has
# already applied the DVS128 flips [C0] when it wrote the file).
G_XYP = [(3, 4, 1), (127, 0, 0), (0, 127, 1)]
G_T = [2_147_483_748, 4_294_967_295, 4_294_967_303]


def sj_load_aedat_v3(data: bytes) -> dict:
    """SpikingJelly's ``load_aedat_v3`` [S2], re-typed (no validity check)."""
    end = data.index(b"#!END-HEADER\r\n") + len(b"#!END-HEADER\r\n")
    pos, out = end, {"t": [], "x": [], "y": [], "p": []}
    while pos + 28 <= len(data):
        e_type = struct.unpack("<H", data[pos:pos + 2])[0]
        e_size, _off, e_ovf, e_cap = struct.unpack("<IIII", data[pos + 4:pos + 20])
        body = data[pos + 28:pos + 28 + e_cap * e_size]
        pos += 28 + e_cap * e_size
        if e_type == 1:
            for k in range(0, len(body), e_size):
                aer, ts = struct.unpack("<II", body[k:k + 8])
                out["x"].append((aer >> 17) & 0x7FFF)
                out["y"].append((aer >> 2) & 0x7FFF)
                out["p"].append((aer >> 1) & 1)
                out["t"].append(ts | e_ovf << 31)
    return out


def tonic_dvs_ibm(data: bytes) -> dict:
    """tonic's ``get_aer_events_from_file`` (version 3) + ``read_dvs_ibm`` [T1], re-typed."""
    pos = 0
    while data[pos:pos + 1] == b"#":
        pos = data.index(b"\n", pos) + 1
    addr, ts = [], []
    while pos + 28 <= len(data):
        cap = struct.unpack("<I", data[pos + 16:pos + 20])[0]
        ev = np.frombuffer(data, dtype=[("a", "<u4"), ("t", "<u4")], count=cap,
                           offset=pos + 28)
        addr += ev["a"].tolist()
        ts += ev["t"].tolist()
        pos += 28 + 8 * cap
    a = np.array(addr, np.int64)
    return {"x": (a >> 17) & 0x1FFF, "y": (a >> 2) & 0x1FFF, "p": (a >> 1) & 1,
            "t": np.array(ts, np.int64)}


@pytest.fixture()
def gesture_file(tmp_path):
    p = tmp_path / "user01_led.aedat"
    p.write_bytes(aedat31_bytes())
    return p


def test_aedat31_decoded_values(gesture_file):
    assert detect_format(gesture_file) == "aedat3"
    s = read_events(gesture_file)
    assert s.sensor_size == (128, 128)
    assert _xyp(s.events) == G_XYP
    assert s.events["t"].tolist() == G_T
    assert s.info["packets"] == 3
    assert s.info["non_polarity_packets_skipped"] == 1
    assert s.info["invalid_events_skipped"] == 1


def test_aedat31_against_spikingjelly_and_tonic(gesture_file):
    data = gesture_file.read_bytes()
    s = read_events(gesture_file)
    sj = sj_load_aedat_v3(data)
    # SpikingJelly keeps the invalid event b (index 1); otherwise identical.
    assert list(zip(sj["x"], sj["y"], sj["p"], strict=True)) == [G_XYP[0], (5, 6, 0), *G_XYP[1:]]
    assert sj["t"] == [G_T[0], (1 << 31) | 150, *G_T[1:]]
    keep = [0, 2, 3]
    assert [sj["t"][i] for i in keep] == s.events["t"].tolist()
    # tonic reads the special-event packet as an event too, keeps the invalid one, and
    # drops eventTSOverflow: its t is the 31-bit value only.
    tn = tonic_dvs_ibm(data)
    assert len(tn["t"]) == 5
    pol = [1, 3, 4]  # events a, c, d in tonic's list (0 = the special event, 2 = invalid b)
    assert tn["x"][pol].tolist() == s.events["x"].tolist()
    assert tn["y"][pol].tolist() == s.events["y"].tolist()
    assert tn["p"][pol].tolist() == s.events["p"].tolist()
    assert tn["t"][pol].tolist() == [t & 0x7FFFFFFF for t in G_T]


# ==================================================================== AEDAT 4.0 (DV)

INFO_XML = (
    '<dv version="2.0"><node name="outInfo" path="/mainloop/Recorder/outInfo/">'
    '<node name="0" path="/mainloop/Recorder/outInfo/0/">'
    '<attr key="compression" type="string">NONE</attr>'
    '<attr key="originalModuleName" type="string">capture</attr>'
    '<attr key="originalOutputName" type="string">events</attr>'
    '<attr key="typeDescription" type="string">Array of events (polarity ON/OFF).</attr>'
    '<attr key="typeIdentifier" type="string">EVTS</attr>'
    '<node name="info" path="/mainloop/Recorder/outInfo/0/info/">'
    '<attr key="sizeX" type="int">346</attr><attr key="sizeY" type="int">260</attr>'
    '<attr key="source" type="string">DAVIS346</attr></node></node>'
    '<node name="1" path="/mainloop/Recorder/outInfo/1/">'
    '<attr key="typeIdentifier" type="string">TRIG</attr></node></node></dv>')


def fb_ioheader(info: str) -> bytes:
    """IOHeader flatbuffer [A4], laid out differently from events.formats.aedat4's
    writer: the vtable sits after the table (negative soffset), compression and
    dataTablePosition are absent (schema defaults NONE and -1)."""
    s = info.encode()
    buf = bytearray()
    buf += struct.pack("<I", 8)                 # 0: root table offset -> 8
    buf += b"IOHE"                              # 4: file_identifier
    buf += struct.pack("<i", 8 - 16)            # 8: table: soffset = table - vtable
    buf += struct.pack("<I", 28 - 12)           # 12: infoNode uoffset (from 12) -> 28
    buf += struct.pack("<HHHHH", 10, 8, 0, 0, 4)  # 16: vtable: size 10, object 8,
    #                                               compression absent, dataTablePosition
    #                                               absent, infoNode at table + 4
    buf += b"\x00\x00"                          # 26: pad
    buf += struct.pack("<I", len(s)) + s + b"\x00"  # 28: string: length, bytes, NUL
    buf += b"\x00" * (-len(buf) % 4)
    return struct.pack("<I", len(buf)) + bytes(buf)  # size-prefixed [A4]


def fb_event_packet(events) -> bytes:
    """EventPacket flatbuffer [A4]: table at 8, vector of 16-byte Event structs (int64
    t, int16 x, int16 y, bool polarity, 3 padding bytes filled with 0xAB here) at 24
    (8-aligned), vtable after the vector."""
    n = len(events)
    vt = 24 + 16 * n
    buf = bytearray()
    buf += struct.pack("<I", 8)                 # root -> 8
    buf += b"EVTS"
    buf += struct.pack("<i", 8 - vt)            # 8: soffset to the vtable (after the data)
    buf += struct.pack("<I", 20 - 12)           # 12: elements uoffset -> vector at 20
    buf += b"\x00" * 4                          # 16: pad so the elements are 8-aligned
    buf += struct.pack("<I", n)                 # 20: vector length
    for t, x, y, on in events:                  # 24: elements
        buf += struct.pack("<qhh?", t, x, y, on) + b"\xab" * 3
    buf += struct.pack("<HHH", 6, 8, 4)         # vtable: size 6, object 8, elements @4
    buf += b"\x00" * (-len(buf) % 4)
    return struct.pack("<I", len(buf)) + bytes(buf)


# Event times are Unix microseconds [A4].
A4_EVENTS_1 = [(1_700_000_000_000_000, 345, 0, True), (1_700_000_000_000_010, 0, 259, False)]
A4_EVENTS_2 = [(1_700_000_000_000_010, 100, 200, True)]


def aedat4_bytes() -> bytes:
    out = [b"#!AER-DAT4.0\r\n", fb_ioheader(INFO_XML)]
    for sid, payload in [(0, fb_event_packet(A4_EVENTS_1)),
                         (1, b"\x01\x02\x03\x04\x05\x06\x07\x08"),  # a TRIG packet: skipped
                         (0, fb_event_packet(A4_EVENTS_2))]:
        out.append(struct.pack("<ii", sid, len(payload)))   # PacketHeader [A4]
        out.append(payload)
    return b"".join(out)


def test_aedat4_hand_built(tmp_path):
    p = tmp_path / "davis.aedat4"
    p.write_bytes(aedat4_bytes())
    s = read_events(p)
    assert s.format == "aedat4"
    assert s.sensor_size == (260, 346)   # (sizeY, sizeX)
    assert _xyp(s.events) == [(345, 0, 1), (0, 259, 0), (100, 200, 1)]
    assert s.events["t"].tolist() == [1_700_000_000_000_000, 1_700_000_000_000_010,
                                      1_700_000_000_000_010]
    assert s.info["compression"] == "none"
    assert s.info["packets"] == 3 and s.info["other_stream_packets_skipped"] == 1


# ==================================================================== stored copies

FIXTURES = {"cifar10_cat_0.aedat": lambda: aedat2_bytes(AEDAT2_RECORDS),
            "wrap.aedat": lambda: aedat2_bytes(WRAP_RECORDS),
            "user01_led.aedat": aedat31_bytes,
            "davis_two_streams.aedat4": aedat4_bytes}


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_stored_fixtures_match(name):
    stored = DATA / name
    assert stored.is_file(), f"{stored} missing: run python tests/test_events_fixtures.py"
    assert stored.read_bytes() == FIXTURES[name](), \
        f"{stored} differs from the bytes built in this file: regenerate it"
    assert stored.stat().st_size < 4096


def test_stored_fixtures_decode():
    assert _xyp(read_events(DATA / "cifar10_cat_0.aedat", address_map="cifar10dvs").events) \
        == CIFAR_XYP
    assert read_events(DATA / "wrap.aedat").events["t"].tolist() == WRAP_T
    assert read_events(DATA / "user01_led.aedat").events["t"].tolist() == G_T
    assert len(read_events(DATA / "davis_two_streams.aedat4")) == 3


if __name__ == "__main__":  # regenerate tests/data/ from the definitions above
    DATA.mkdir(exist_ok=True)
    for fname, make in FIXTURES.items():
        (DATA / fname).write_bytes(make())
        print(f"wrote {DATA / fname}", file=sys.stderr)
