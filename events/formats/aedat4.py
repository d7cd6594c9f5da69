"""AEDAT 4.0 (iniVation DV): flatbuffers parsed by hand (schemas: ioheader.fbs, events.fbs).

A ``#!AER-DAT4.0\r\n`` version line, a size-prefixed ``IOHeader`` flatbuffer (its
infoNode XML names the streams), then packets of size-prefixed ``EventPacket``
flatbuffers, optionally LZ4- or zstd-framed (``docs/events.md`` has the layout and its
sources). Only the first event stream (typeIdentifier EVTS) is read; packets of other
streams are counted and skipped.
"""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from events.stream import EventFormatError, EventStream, _finalize

AEDAT4_MAGIC = b"#!AER-DAT4.0\r\n"
#: AEDAT 4.0 ``dv::Event`` struct: int64 timestamp, int16 x, int16 y, bool polarity,
#: padded to 16 bytes (flatbuffers struct alignment 8).
AEDAT4_EVENT_DTYPE = np.dtype(
    {"names": ["t", "x", "y", "p"], "formats": ["<i8", "<i2", "<i2", "u1"],
     "offsets": [0, 8, 10, 12], "itemsize": 16}
)
AEDAT4_COMPRESSION = {0: "none", 1: "lz4", 2: "lz4_high", 3: "zstd", 4: "zstd_high"}


def _fb_u32(buf, pos, path, what):
    if pos < 0 or pos + 4 > len(buf):
        raise EventFormatError(path, f"flatbuffer {what}: offset {pos} outside the "
                               f"{len(buf)}-byte buffer")
    return struct.unpack_from("<I", buf, pos)[0]


def _fb_table_fields(buf, table, path, what) -> tuple[int, ...]:
    """Return the absolute position of each field of a flatbuffer table (0 = absent)."""
    if table < 0 or table + 4 > len(buf):
        raise EventFormatError(path, f"flatbuffer {what}: table offset {table} out of range")
    soff = struct.unpack_from("<i", buf, table)[0]
    vt = table - soff
    if vt < 0 or vt + 4 > len(buf):
        raise EventFormatError(path, f"flatbuffer {what}: vtable offset {vt} out of range")
    vt_size, _obj_size = struct.unpack_from("<HH", buf, vt)
    if vt_size < 4 or vt_size % 2 or vt + vt_size > len(buf):
        raise EventFormatError(path, f"flatbuffer {what}: bad vtable size {vt_size}")
    n = (vt_size - 4) // 2
    offs = struct.unpack_from(f"<{n}H", buf, vt + 4)
    return tuple(table + o if o else 0 for o in offs)


def _parse_ioheader(buf: bytes, path):
    root = _fb_u32(buf, 0, path, "IOHeader root")
    fields = _fb_table_fields(buf, root, path, "IOHeader") + (0, 0, 0)
    if fields[0] and fields[0] + 4 > len(buf):
        raise EventFormatError(path, "IOHeader compression field out of range")
    comp = struct.unpack_from("<i", buf, fields[0])[0] if fields[0] else 0
    table_pos = -1
    if fields[1]:
        if fields[1] + 8 > len(buf):
            raise EventFormatError(path, "IOHeader dataTablePosition field out of range")
        table_pos = struct.unpack_from("<q", buf, fields[1])[0]
    info = ""
    if fields[2]:
        s = fields[2] + _fb_u32(buf, fields[2], path, "infoNode offset")
        ln = _fb_u32(buf, s, path, "infoNode length")
        if s + 4 + ln > len(buf):
            raise EventFormatError(path, "IOHeader infoNode string out of range")
        info = buf[s + 4:s + 4 + ln].decode("utf-8", errors="replace")
    return comp, table_pos, info


def _parse_info_node(info: str, path) -> dict[int, dict]:
    """Stream id -> {'type': 'EVTS', 'size': (H, W) or None} from the infoNode XML."""
    try:
        root = ET.fromstring(info)
    except ET.ParseError as exc:
        raise EventFormatError(path, f"AEDAT 4.0 infoNode is not XML: {exc}") from None
    streams = {}
    out_info = None
    for node in root.iter("node"):
        if node.get("name") == "outInfo":
            out_info = node
            break
    if out_info is None:
        raise EventFormatError(path, "AEDAT 4.0 infoNode has no 'outInfo' node")
    for s in out_info.findall("node"):
        try:
            sid = int(s.get("name", ""))
        except ValueError:
            raise EventFormatError(path, f"AEDAT 4.0 stream node name {s.get('name')!r} "
                                   "is not an integer id") from None
        attrs = {a.get("key"): (a.text or "") for a in s.findall("attr")}
        size = None
        info_n = s.find("node[@name='info']")
        if info_n is not None:
            ia = {a.get("key"): (a.text or "") for a in info_n.findall("attr")}
            if "sizeX" in ia and "sizeY" in ia:
                try:
                    size = (int(ia["sizeY"]), int(ia["sizeX"]))
                except ValueError:
                    raise EventFormatError(path, "AEDAT 4.0 sizeX/sizeY not integers") from None
        streams[sid] = {"type": attrs.get("typeIdentifier", ""), "size": size}
    return streams


def _decompress(kind: str, blob: bytes, path, pos):
    if kind == "none":
        return blob
    if kind in ("lz4", "lz4_high"):
        import lz4.frame
        try:
            return lz4.frame.decompress(blob)
        except Exception as exc:  # lz4 raises RuntimeError on corrupt frames
            raise EventFormatError(path, f"LZ4 frame does not decompress: {exc}",
                                   offset=pos) from None
    try:
        import zstandard
    except ImportError:
        raise EventFormatError(path, "zstd-compressed AEDAT 4.0 needs the 'zstandard' "
                               "package", offset=pos) from None
    try:
        return zstandard.ZstdDecompressor().decompress(blob, max_output_size=1 << 31)
    except Exception as exc:
        raise EventFormatError(path, f"zstd frame does not decompress: {exc}",
                               offset=pos) from None


def _read_aedat4(path, data: bytes, sensor_size, **policy) -> EventStream:
    if not data.startswith(AEDAT4_MAGIC):
        raise EventFormatError(path, "no '#!AER-DAT4.0\\r\\n' version line", offset=0)
    pos = len(AEDAT4_MAGIC)
    if len(data) < pos + 4:
        raise EventFormatError(path, "truncated before the IOHeader size", offset=pos)
    hsize = struct.unpack_from("<I", data, pos)[0]
    pos += 4
    if pos + hsize > len(data):
        raise EventFormatError(path, f"truncated IOHeader ({hsize} bytes announced)",
                               offset=pos)
    comp, table_pos, info_xml = _parse_ioheader(data[pos:pos + hsize], path)
    if comp not in AEDAT4_COMPRESSION:
        raise EventFormatError(path, f"unknown compression type {comp}", offset=pos)
    kind = AEDAT4_COMPRESSION[comp]
    streams = _parse_info_node(info_xml, path)
    ev_ids = [k for k, v in streams.items() if v["type"] == "EVTS"]
    if not ev_ids:
        raise EventFormatError(path, "no event stream (typeIdentifier EVTS) in the infoNode",
                               offset=pos)
    ev_id = ev_ids[0]
    if sensor_size is None:
        sensor_size = streams[ev_id]["size"]
        if sensor_size is None:
            raise EventFormatError(path, "event stream without sizeX/sizeY; pass sensor_size=")
    pos += hsize
    end = len(data) if table_pos < 0 else table_pos
    if end > len(data) or end < pos:
        raise EventFormatError(path, f"dataTablePosition {table_pos} outside the file",
                               offset=pos)
    parts = []
    info = {"compression": kind, "packets": 0, "other_stream_packets_skipped": 0}
    while pos < end:
        if end - pos < 8:
            raise EventFormatError(path, f"truncated packet header ({end - pos} of 8 bytes)",
                                   offset=pos)
        sid, size = struct.unpack_from("<iI", data, pos)
        if pos + 8 + size > end:
            raise EventFormatError(path, f"truncated packet: {size} bytes announced, "
                                   f"{end - pos - 8} left", offset=pos)
        if sid not in streams:
            raise EventFormatError(path, f"packet of unknown stream id {sid}", offset=pos)
        info["packets"] += 1
        if sid != ev_id:
            info["other_stream_packets_skipped"] += 1
            pos += 8 + size
            continue
        buf = _decompress(kind, data[pos + 8:pos + 8 + size], path, pos)
        try:
            parts.append(_parse_event_packet(buf, path))
        except EventFormatError as exc:
            raise EventFormatError(path, f"event packet: {exc.args[0].split(': ', 1)[-1]}",
                                   offset=pos) from None
        pos += 8 + size
    if parts:
        arr = np.concatenate(parts)
    else:
        arr = np.zeros(0, AEDAT4_EVENT_DTYPE)
    p = arr["p"]
    return _finalize(path, "aedat4", arr["x"], arr["y"], arr["t"], p, sensor_size, info,
                     **policy)


def _parse_event_packet(buf: bytes, path) -> np.ndarray:
    """Size-prefixed ``EventPacket`` flatbuffer -> array of AEDAT4_EVENT_DTYPE."""
    size = _fb_u32(buf, 0, path, "size prefix")
    if size + 4 > len(buf):
        raise EventFormatError(path, f"size prefix {size} larger than the packet")
    inner = memoryview(buf)[4:4 + size].tobytes()
    root = _fb_u32(inner, 0, path, "root")
    if inner[4:8] != b"EVTS":
        raise EventFormatError(path, f"file identifier {inner[4:8]!r} is not b'EVTS'")
    fields = _fb_table_fields(inner, root, path, "EventPacket")
    if not fields or not fields[0]:
        return np.zeros(0, AEDAT4_EVENT_DTYPE)
    vec = fields[0] + _fb_u32(inner, fields[0], path, "elements offset")
    n = _fb_u32(inner, vec, path, "elements length")
    if vec + 4 + 16 * n > len(inner):
        raise EventFormatError(path, f"elements vector of {n} events overruns the packet")
    arr = np.frombuffer(inner, dtype=AEDAT4_EVENT_DTYPE, count=n, offset=vec + 4)
    if n and arr["p"].max() > 1:
        raise EventFormatError(path, "polarity byte is not 0 or 1")
    return arr


def _fb_event_packet(events: np.ndarray) -> bytes:
    """Build a size-prefixed ``EventPacket`` flatbuffer (identifier 'EVTS')."""
    n = events.size
    inner = bytearray(32 + 16 * n)
    struct.pack_into("<I", inner, 0, 16)           # root -> table at 16
    inner[4:8] = b"EVTS"
    struct.pack_into("<HHH", inner, 8, 6, 8, 4)    # vtable: 6 bytes, object 8, field0 @4
    struct.pack_into("<iI", inner, 16, 16 - 8, 28 - 20)  # soffset to vtable; vector @28
    struct.pack_into("<I", inner, 28, n)
    arr = np.zeros(n, AEDAT4_EVENT_DTYPE)
    arr["t"], arr["x"], arr["y"], arr["p"] = events["t"], events["x"], events["y"], events["p"]
    inner[32:] = arr.tobytes()
    return struct.pack("<I", len(inner)) + bytes(inner)


def _fb_ioheader(compression: int, info_xml: str, table_pos: int = -1) -> bytes:
    s = info_xml.encode()
    buf = bytearray(48 + len(s) + 1 + 8)
    struct.pack_into("<I", buf, 0, 24)                       # root -> table at 24
    buf[4:8] = b"IOHE"
    struct.pack_into("<HHHHH", buf, 8, 10, 20, 4, 8, 16)     # vtable
    struct.pack_into("<iiqI", buf, 24, 24 - 8, compression, table_pos, 44 - 40)
    struct.pack_into("<I", buf, 44, len(s))
    buf[48:48 + len(s)] = s
    return bytes(buf)


def write_aedat4(path, events, *, sensor_size, compression: str = "lz4",
                 packet_events: int = 4096) -> None:
    """Write ``events`` as AEDAT 4.0 with one event stream (id 0) of
    ``sensor_size`` (H, W), packets of ``packet_events`` events, LZ4-framed
    (``compression='lz4'``), zstd-framed (``'zstd'``) or uncompressed (``'none'``).
    No data table (-1)."""
    codes = {"none": 0, "lz4": 1, "zstd": 3}
    if compression not in codes:
        raise ValueError(f"compression must be 'none', 'lz4' or 'zstd', got {compression!r}")
    H, W = sensor_size
    xml = ('<dv version="2.0"><node name="outInfo" path="/mainloop/Recorder/outInfo/">'
           '<node name="0" path="/mainloop/Recorder/outInfo/0/">'
           f'<attr key="compression" type="string">{compression.upper()}</attr>'
           '<attr key="originalModuleName" type="string">p2m</attr>'
           '<attr key="originalOutputName" type="string">events</attr>'
           '<attr key="typeDescription" type="string">Array of events</attr>'
           '<attr key="typeIdentifier" type="string">EVTS</attr>'
           '<node name="info" path="/mainloop/Recorder/outInfo/0/info/">'
           f'<attr key="sizeX" type="int">{W}</attr><attr key="sizeY" type="int">{H}</attr>'
           '<attr key="source" type="string">p2m-bench</attr></node></node></node></dv>')
    head = _fb_ioheader(codes[compression], xml)
    chunks = [AEDAT4_MAGIC, struct.pack("<I", len(head)), head]
    ev = np.asarray(events)
    for i in range(0, ev.size, packet_events):
        blob = _fb_event_packet(ev[i:i + packet_events])
        if compression == "lz4":
            import lz4.frame
            blob = lz4.frame.compress(blob)
        elif compression == "zstd":
            import zstandard
            blob = zstandard.ZstdCompressor().compress(blob)
        chunks.append(struct.pack("<iI", 0, len(blob)))
        chunks.append(blob)
    Path(path).write_bytes(b"".join(chunks))

