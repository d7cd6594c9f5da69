"""Unit tests of the testbench helpers that run without a simulator (fast, not `sim`)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analog_models.chip_config import ChipConfig
from tb import coverage as tbcov
from tb import regs
from tb import waves as tbrun
from tb.common import flags_to_int, int_to_flags
from tb.config import ClockTiming, Geometry, RunConfig, replay_command
from tb.coverage import Covergroup, burst_bins
from tb.program_chip import chip_commands, expected_devices, random_config, weight_index
from tb.run import TESTS, normalize_test, read_files_f
from tb.scoreboard import expected_stream
from tb.waves import (
    _WAVE_W,
    _ZOOM_PX,
    GROUPS,
    PHASE_NAMES,
    WAVE_INFO,
    gtkw_text,
    layout_names,
    static_vars,
    write_gtkw,
)


def test_register_map_matches_contract() -> None:
    assert len(regs.REGS) == 18
    assert regs.reg("ID").reset == 0x50324D02 and regs.reg("TICK_DIV").reset == 1
    assert [r.addr for r in regs.REGS] == list(range(0, 0x48, 4))
    assert regs.pack("PROG_ADDR", INDEX=3, TARGET=2) == (2 << 12) | 3
    with pytest.raises(ValueError, match="name"):
        regs.reg("NOPE")
    with pytest.raises(ValueError, match="INDEX"):
        regs.pack("PROG_ADDR", INDEX=1024)


@given(st.lists(st.booleans(), min_size=256, max_size=256))
@settings(max_examples=50, deadline=None)
def test_flag_packing_roundtrip(bits: list[bool]) -> None:
    a = np.array(bits)
    v = flags_to_int(a)
    assert all(((v >> i) & 1) == b for i, b in enumerate(bits))
    assert np.array_equal(int_to_flags(v, 256), a)


@given(st.integers(0, 31), st.integers(0, 15), st.integers(0, 15))
def test_aer_address_packing(ch: int, y: int, x: int) -> None:
    g = Geometry()
    a = g.addr_pack(ch, y, x)
    assert a < 2**13 and g.addr_unpack(a) == (ch, y, x)


def test_geometry_widths_match_the_rtl_derivation() -> None:
    """Widths as in p2m_top ($clog2, at least 1 bit): paper, DVS128, odd and 1-wide shapes."""
    assert (Geometry().ch_bits, Geometry().y_bits, Geometry().aw) == (5, 4, 13)
    dvs = Geometry(out_h=64, out_w=64)
    assert (dvs.y_bits, dvs.x_bits, dvs.n_neur, dvs.aw, dvs.prog_idx_bits) == (6, 6, 4096, 17, 10)
    odd = Geometry(n_ch=3, out_h=1, out_w=7)
    assert (odd.ch_bits, odd.y_bits, odd.x_bits, odd.prog_idx_bits) == (2, 1, 3, 6)
    assert odd.addr_unpack(odd.addr_pack(2, 0, 6)) == (2, 0, 6)
    m = regs.register_map(odd.prog_idx_bits, odd.ch_bits, odd.y_bits, odd.x_bits)
    probe = next(r for r in m if r.name == "PROBE")
    assert [(f.name, f.msb, f.lsb) for f in probe.fields] == [("X", 2, 0), ("Y", 3, 3),
                                                              ("CH", 5, 4)]


def test_run_config_reads_the_environment_once() -> None:
    cfg = RunConfig.from_env({"P2M_SEED": "12", "P2M_TEST": "test_csr", "P2M_SIM": "verilator",
                              "P2M_AER_SPIKES": "3000", "P2M_WAVES": "1"})
    assert (cfg.seed, cfg.test, cfg.sim, cfg.aer_spikes, cfg.waves) == (
        12, "test_csr", "verilator", 3000, True)
    assert "P2M_AER_SPIKES=3000" in cfg.replay() and "--sim verilator" in cfg.replay()
    with pytest.raises(ValueError, match="P2M_AER_SPIKES"):
        RunConfig.from_env({"P2M_AER_SPIKES": "many"})


def test_clock_timing_helpers() -> None:
    t = ClockTiming()
    assert t.next_slow_edge(0) == 500_000 and t.next_slow_edge(500_000) == 1_500_000
    assert t.first_edge_after_start(1_500_000) == 1_753_000  # 250 ns, then the 3 ns grid


def test_expected_stream_order() -> None:
    f = np.zeros((32, 256), bool)
    f[2, [17, 3]] = True
    f[0, 255] = True
    s = expected_stream(f, 16)
    assert s == [("ev", 0, 15, 15), ("rst", 0, 1 << 255), ("ev", 2, 0, 3), ("ev", 2, 1, 1),
                 ("rst", 2, (1 << 17) | (1 << 3))]


def test_chip_commands_threshold_rule() -> None:
    cfg = random_config(3, "cmos+x", zero_fraction=0.0)
    cmds = chip_commands(cfg)
    assert sum(1 for t, _, _ in cmds if t == regs.TARGET_WEIGHT) == 576
    dev = expected_devices(cfg)
    for c, code in enumerate(cfg.threshold_codes):
        assert dev[(regs.TARGET_TH_TOP, c)] == code
        assert dev[(regs.TARGET_TH_BOT, c)] == 2**cfg.threshold_bits - 1 - code
    assert weight_index(31, 1, 2, 2) == 575
    cmos = ChipConfig(weight_config="cmos")
    assert all(t != regs.TARGET_WEIGHT for t, _, _ in chip_commands(cmos))
    wide = ChipConfig(weight_config="mdwmtj", threshold_bits=9)
    with pytest.raises(ValueError, match="threshold_bits"):
        chip_commands(wide)


def test_coverage_bins() -> None:
    g = Covergroup("t")
    g.point("burst", burst_bins())
    for v in (0, 1, 5, 256, 999):
        g.sample("burst", v)
    cp = g.points["burst"]
    assert cp.covered == 4 and cp.other == 1
    assert 0 < g.percent < 100
    assert "missing" in g.report()


def test_runner_helpers(tmp_path) -> None:
    assert normalize_test("tb/test_csr.py") == "test_csr"
    assert normalize_test("tb.test_p2m_top") == "test_p2m_top"
    with pytest.raises(ValueError, match="test"):
        normalize_test("test_nothing")
    assert "--seed 5" in replay_command("test_csr", 5)
    assert set(TESTS) >= {"test_aer_readout", "test_reset_sequencer", "test_threshold_ctrl",
                          "test_csr", "test_p2m_top"}
    f = tmp_path / "files.f"
    f.write_text("# comment\n\n")
    with pytest.raises(FileNotFoundError, match="no source"):
        read_files_f(f)
    f.write_text("rtl/missing.v\n")
    with pytest.raises(FileNotFoundError, match="missing.v"):
        read_files_f(f)


def test_gtkw_layout(tmp_path) -> None:
    """The GTKWave save file: groups, radices, address fields, phase filter, analog taps,
    markers and initial zoom (the layout was checked by eye in GTKWave 3.3.118)."""
    names = {n for _, sigs in GROUPS for n, _ in sigs}
    wide = {"aer_addr": 13, "ana_flags": 256, "ana_rst_mask": 256, "phase": 3, "ana_ch_sel": 5,
            "ana_rst_ch": 5, "ana_prog_target": 2, "ana_prog_index": 10, "paddr": 12,
            "pwdata": 32, "prdata": 32, "probe_x": 4}
    variables = {n: (f"p2m_tb.{n}" + (f"[{wide[n] - 1}:0]" if n in wide else ""),
                     "real" if n.startswith("tap_") else "wire") for n in names | {"probe_x"}}
    filt = tmp_path / "t.phase.txt"
    text = gtkw_text(tmp_path / "x.fst", variables, samples=[300_000, 350_000],
                     phase_filter=filt)
    for group, _ in GROUPS:  # every group opened and closed, in GROUPS order
        assert f"@800200\n-{group}\n" in text and f"@1000200\n-{group}\n" in text
    order = [text.index(f"@800200\n-{g}\n") for g, _ in GROUPS]
    assert order == sorted(order)
    for tap in ("tap_dw_pos", "tap_dw_neg", "tap_vpre", "tap_vth"):  # analog step + real
        m = re.search(rf"@([0-9a-f]+)\n(\[color\] \d+\n)?p2m_tb\.{tap}\n@20200\n-\n-\n-\n",
                      text)
        assert m and int(m.group(1), 16) & 0x48000 == 0x48000, tap
        assert not int(m.group(1), 16) & 0x10400  # neither interpolated nor signed
    assert "@24\np2m_tb.ana_ch_sel[4:0]\n" in text and "@22\np2m_tb.aer_addr[12:0]\n" in text
    assert f"@2024\n^1 {filt.resolve()}\np2m_tb.phase[2:0]\n" in text
    assert "#{p2m_tb.aer_addr.ch[12:8]} (0)p2m_tb.aer_addr[12:0] " in text
    assert "#{p2m_tb.aer_addr.x[3:0]} (9)p2m_tb.aer_addr[12:0] " in text
    zoom = re.search(r"^\*(-?[0-9.]+) (\d+) (\d+) (\d+)( -1){24}$", text, re.M)
    assert zoom and zoom.group(2, 3, 4) == ("300000", "300000", "350000")
    span = 2 ** -float(zoom.group(1)) / _ZOOM_PX * _WAVE_W  # the view: a window and a bit
    assert 50_000 < span < 70_000 and "[timestart] 297500" in text
    fit = gtkw_text(tmp_path / "x.fst", variables, end=2_000_000)  # no samples: zoom to fit
    assert re.search(r"^\*-[0-9.]+ -1( -1){26}$", fit, re.M) and "^1" not in fit
    if shutil.which("fst2vcd"):  # write_gtkw on a tiny dump: filter file and zoom to fit
        vcd = tmp_path / "t.vcd"
        vcd.write_text("$timescale 1ps $end\n$scope module p2m_tb $end\n"
                       "$var wire 3 ! phase [2:0] $end\n$upscope $end\n$enddefinitions $end\n"
                       "#0\nb0 !\n#1000\nb1 !\n")
        fst = tmp_path / "p2m_tb.fst"
        if subprocess.run(["vcd2fst", str(vcd), str(fst)], capture_output=True).returncode == 0:
            gtkw = write_gtkw(fst, tmp_path / "t.gtkw")
            assert (tmp_path / "t.phase.txt").read_text().splitlines() == [
                f"{i} {n}" for i, n in enumerate(PHASE_NAMES)]
            assert "p2m_tb.phase[2:0]" in gtkw.read_text()


def test_pulse_qualifier_checks() -> None:
    from tb.analog_agent import AnalogAgent, RstPulse

    P = ClockTiming().clk_period_ps

    p = RstPulse(t_rise=10 * P, t_fall=26 * P, width=16, ch=3, mask=5, all=False)
    ok = [9 * P, 27 * P]
    assert AnalogAgent._stability([p], ok, "q") == []
    assert AnalogAgent._framing([p], ok, "q") == []
    assert AnalogAgent._stability([p], [12 * P], "q")  # inside the pulse
    assert AnalogAgent._stability([p], [26 * P], "q")  # at the fall: must hold one more cycle
    assert AnalogAgent._framing([p], [30 * P], "q")  # neither setup nor return edge


def _no_fst2vcd(monkeypatch) -> None:
    """Simulate a machine without GTKWave's fst2vcd."""
    real = shutil.which
    monkeypatch.setattr(tbrun.shutil, "which",
                        lambda name, *a, **k: None if name == "fst2vcd" else real(name, *a, **k))


def test_gtkw_without_fst2vcd(tmp_path, monkeypatch) -> None:
    """Without fst2vcd the layout comes from the testbench's waves_info.json (variables,
    first ana_sample edges, end), else from the static port description + results.xml."""
    _no_fst2vcd(monkeypatch)
    assert tbrun.shutil.which("fst2vcd") is None
    fst = tmp_path / "p2m_tb.fst"
    fst.write_bytes(b"not read")  # no tool reads it on these paths
    sv = static_vars()
    assert set(sv) == set(layout_names())
    assert sv["aer_addr"] == ("p2m_tb.aer_addr[12:0]", "wire")
    assert sv["ana_flags"] == ("p2m_tb.ana_flags[255:0]", "wire")
    assert sv["tap_vpre"] == ("p2m_tb.u_dut.tap_vpre", "real") and sv["clk"][0] == "p2m_tb.clk"
    # 1) the testbench's info file (times in ps = the dump unit)
    (tmp_path / WAVE_INFO).write_text(json.dumps(
        {"unit": "ps", "vars": sv, "samples": [300_000, 350_000], "end": 2_000_000}))
    text = write_gtkw(fst, tmp_path / "t.gtkw").read_text()
    assert "[variables: waves_info.json]" in text.splitlines()[0]
    assert re.search(r"^\*-?[0-9.]+ 300000 300000 350000( -1){24}$", text, re.M)
    for group, _ in GROUPS:
        assert f"-{group}\n" in text
    assert "p2m_tb.u_dut.tap_vth\n" in text and "#{p2m_tb.aer_addr.y[7:4]}" in text
    assert (tmp_path / "t.phase.txt").read_text().startswith("0 IDLE\n")
    # the same layout as from the variables directly (what fst2vcd would give)
    body = gtkw_text(fst, sv, samples=[300_000, 350_000], end=2_000_000,
                     phase_filter=tmp_path / "t.phase.txt")
    assert text.split("\n", 1)[1] == body.split("\n", 1)[1]
    # 2) no info file: static description, zoom to fit the end time of results.xml
    (tmp_path / WAVE_INFO).unlink()
    (tmp_path / "results.xml").write_text(
        '<testsuites><testsuite><testcase name="a"><properties>'
        '<property name="sim_time_unit" value="ns" /><property name="sim_time_stop" '
        'value="1500.5" /></properties></testcase><testcase name="b"><properties>'
        '<property name="sim_time_unit" value="ns" /><property name="sim_time_stop" '
        'value="2000.0" /></properties></testcase></testsuite></testsuites>')
    text = write_gtkw(fst, tmp_path / "t.gtkw").read_text()
    assert "[variables: static]" in text.splitlines()[0]
    assert "p2m_tb.phase[2:0]" in text and "p2m_tb.u_dut.tap_dw_pos" in text
    fit = gtkw_text(fst, sv, end=2_000_000)
    assert re.search(r"^\*[-0-9.]+ -1( -1){26}$", text, re.M)
    assert [ln for ln in text.splitlines() if ln.startswith("*")] == [
        ln for ln in fit.splitlines() if ln.startswith("*")]


@pytest.mark.skipif(not (shutil.which("fst2vcd") and shutil.which("vcd2fst")),
                    reason="GTKWave's fst2vcd/vcd2fst not installed (optional cross-check)")
def test_gtkw_fst2vcd_cross_check(tmp_path) -> None:
    """With fst2vcd: the variables and first ana_sample edges read from a real FST equal the
    ones the testbench writes (waves_info.json), so both give the same layout."""
    vcd = tmp_path / "t.vcd"
    vcd.write_text("$timescale 1ps $end\n$scope module p2m_tb $end\n"
                   "$var wire 1 ! clk $end\n$var wire 1 # ana_sample $end\n"
                   "$var wire 13 $ aer_addr [12:0] $end\n$scope module u_dut $end\n"
                   "$var wire 4 % probe_x [3:0] $end\n"
                   "$var real 64 & tap_vpre $end\n$upscope $end\n$upscope $end\n"
                   "$enddefinitions $end\n"
                   "#0\n0!\n0#\nb0 $\nb0 %\nr0 &\n#5000\n1#\n#6000\n0#\n#9000\n1#\n"
                   "r0.5 &\n#12000\n0#\n")
    fst = tmp_path / "p2m_tb.fst"
    assert subprocess.run(["vcd2fst", str(vcd), str(fst)], capture_output=True).returncode == 0
    src, fvars, samples, end = tbrun.layout_source(fst)
    assert src == "fst2vcd" and samples == [5000, 9000] and end == 9000
    sv = static_vars()
    assert {n: fvars[n] for n in fvars} == {n: sv[n] for n in fvars}
    from_fst = write_gtkw(fst, tmp_path / "a.gtkw").read_text().split("\n", 1)[1]
    (tmp_path / WAVE_INFO).write_text(json.dumps(
        {"unit": "ps", "vars": {n: sv[n] for n in fvars}, "samples": [5000, 9000],
         "end": 12000}))
    from_json = write_gtkw(fst, tmp_path / "a.gtkw").read_text().split("\n", 1)[1]
    assert from_fst == from_json


def _dump(hits_target_code: dict[str, int], rst: dict[str, int]) -> dict:
    g = Covergroup("programming")
    g.point("target", [("weight", 0), ("threshold top", 1), ("threshold bottom", 2)])
    g.point("code", [("0", 0), ("64-254", (64, 254)), ("255", 255)])
    cr = g.cross("target x code", "target", "code")
    for pt in g.points.values():  # the points themselves fully hit: holes only in the cross
        pt.hits = dict.fromkeys(pt.hits, 1)
    for label, n in hits_target_code.items():
        t, c = label.split(" x ")
        cr.hits[(t, c)] += n
    a = Covergroup("analog")
    cp = a.point("rst_width", [("1", 1), (">= 256", (256, 65535))])
    for label, n in rst.items():
        cp.hits[label] += n
    return {"programming": g.to_dict(), "analog": a.to_dict()}


def test_coverage_ignore_and_merge(tmp_path, capsys) -> None:
    """Unreachable bins (IGNORE_BINS) are dropped; the merge sums hits over dumps and
    reports per-covergroup percentages, the holes and the closure goal."""
    g = Covergroup("programming")
    g.point("target", [("weight", 0), ("threshold top", 1), ("threshold bottom", 2)])
    g.point("code", [("0", 0), ("64-254", (64, 254)), ("255", 255)])
    cr = g.cross("target x code", "target", "code")
    assert ("threshold top", "255") not in cr.hits and ("weight", "255") in cr.hits
    assert cr.total == 3 * 3 - 4 and "threshold bottom x 64-254" in cr.ignored
    cr.sample(1, 255)  # an ignored bin: counted nowhere, no error
    assert cr.covered == 0
    d1 = _dump({"weight x 0": 2, "threshold top x 0": 1}, {"1": 3})
    d2 = _dump({"weight x 0": 1, "weight x 255": 1}, {">= 256": 1})
    # an old dump that still has an ignored bin: dropped by the merge too
    d2["programming"]["points"]["target x code"]["hits"]["threshold top x 255"] = 4
    m = tbcov.merge([d1, d2])
    tc = m["programming"]["points"]["target x code"]
    assert tc["hits"]["weight x 0"] == 3 and "threshold top x 255" not in tc["hits"]
    assert tc["covered"] == 3 and tc["total"] == 5
    assert m["analog"]["percent"] == 100.0
    assert tbcov.holes(m) == ["programming.target x code: weight x 64-254",
                              "programming.target x code: threshold bottom x 0"]
    cov, tot = tbcov.totals(m)
    assert (cov, tot) == (11, 13)
    rep = tbcov.merged_report(m, ["a", "b"])
    assert "covergroup programming: 81.8 % (9/11 bins)" in rep
    assert "covergroup analog: 100.0 % (2/2 bins)" in rep
    assert "missing: weight x 64-254, threshold bottom x 0" in rep
    assert "total: 84.6 % (11/13 bins); closure goal 100 %: NOT met, 2 hole(s)" in rep
    # the CLI: python -m tb.coverage merge FILES --json OUT --fail-under PCT
    f1, f2 = tmp_path / "coverage_a.json", tmp_path / "coverage_b.json"
    f1.write_text(json.dumps(d1))
    f2.write_text(json.dumps(d2))
    out = tmp_path / "merged.json"
    assert tbcov.main(["merge", str(f1), str(f2), "--json", str(out)]) == 0
    assert "closure goal 100 %: NOT met" in capsys.readouterr().out
    assert json.loads(out.read_text()) == m
    assert tbcov.main(["merge", str(f1), str(f2), "--fail-under", "80"]) == 0
    assert tbcov.main(["merge", str(f1), str(f2), "--fail-under", "100"]) == 1
    assert tbcov.main(["merge", str(tmp_path / "nope.json")]) == 2


def test_coverage_session_report(tmp_path) -> None:
    """The pytest hook's helper: only the regression modules' dumps written since the session
    started are merged; None (hook prints nothing) when there is none."""
    assert tbcov.session_report(tmp_path, TESTS) is None
    (tmp_path / "test_csr").mkdir()
    (tmp_path / "test_csr" / "coverage_test_csr.json").write_text(
        json.dumps(_dump({"weight x 0": 1}, {"1": 1})))
    (tmp_path / "bench_rtl_tb").mkdir()  # a benchmark's dump: not part of the regression
    (tmp_path / "bench_rtl_tb" / "coverage_bench_rtl_tb.json").write_text("{}")
    assert [p.name for p in tbcov.session_dumps(tmp_path, TESTS)] == ["coverage_test_csr.json"]
    assert tbcov.session_dumps(tmp_path, TESTS, since=2**40) == []
    rep = tbcov.session_report(tmp_path, TESTS)
    assert rep is not None and "merged functional coverage of 1 dump(s)" in rep
    assert "partial run: no dump from test_aer_readout" in rep


def test_window_errors_names_each_difference():
    """The readout check shared by the HDL agents and the analog bridge: exact window ->
    nothing; a wrong address, a missing channel reset, a reset of another width -> each
    named, with the window and the first differing entry."""
    from tb.hdl_agents import HdlReset, expected_addresses, window_errors

    geo = Geometry(n_ch=3, out_h=2, out_w=2)
    flags = np.zeros((3, 4), bool)
    flags[0, 1] = flags[2, 3] = True
    aer = expected_addresses(flags, geo)
    assert aer.tolist() == [geo.addr_pack(0, 0, 1), geo.addr_pack(2, 1, 1)]
    resets = [HdlReset(False, 0, 16, 0, 1), HdlReset(False, 2, 16, 2, 3)]
    assert window_errors(5, aer, flags, resets, 16, geo) == []
    bad = aer.copy()
    bad[1] = geo.addr_pack(2, 1, 0)
    (e,) = window_errors(5, bad, flags, resets, 16, geo)
    assert "window 5" in e and "entry 1: got (2, 1, 0), expected (2, 1, 1)" in e
    (e,) = window_errors(5, aer, flags, resets[:1], 16, geo)
    assert "reset pulses of channels [0]" in e and "spiking channels [0, 2]" in e
    (e,) = window_errors(5, aer, flags, [resets[0], resets[1]._replace(width=8)], 16, geo)
    assert "reset widths [8] cycles, RST_WIDTH = 16" in e


class _Word:
    """One word of an HDL memory as the HDL agents' readers see it (``.value``, ``len``)."""

    def __init__(self, bits: int, value: int = 0) -> None:
        self.bits, self.value = bits, value

    def __len__(self) -> int:
        return self.bits


class _Sig:
    def __init__(self, value: int = 0) -> None:
        self.value = value


def _fake_hdl(geo: Geometry, pack: int, rpack: int, fpack: int, rdepth: int):
    """p2m_tb's HDL agents reduced to their memories, packed as tb/hdl/p2m_tb_agents.v packs
    them (event FIFO: PACK addresses per word; reset log: a ring of rdepth entries, RPACK
    per word; flag memory: FPACK channels per word)."""
    from types import SimpleNamespace

    rx = SimpleNamespace(ev_count=_Sig(), rng=_Sig(), max_ack_ps=_Sig(), max_rel_ps=_Sig(),
                         ev_mem=[_Word(pack * geo.aw) for _ in range(-(-geo.n_ch * geo.n_neur
                                                                       // pack))])
    ana = SimpleNamespace(rst_count=_Sig(), mask_errors=_Sig(), gen=_Sig(),
                          rst_log=[_Word(rpack * 160) for _ in range(rdepth // rpack)],
                          mem=[_Word(fpack * geo.n_neur) for _ in range(-(-geo.n_ch // fpack))])
    return SimpleNamespace(u_aer_rx=rx, u_analog=ana)


def _hdl_push_event(rx, addr: int, aw: int) -> None:
    """p2m_tb_aer_rx at aer_req's rise: ev_mem[i / PACK][(i % PACK) * AW +: AW] = addr."""
    i, pack = rx.ev_count.value, len(rx.ev_mem[0]) // aw
    w = rx.ev_mem[i // pack]
    w.value = (w.value & ~(((1 << aw) - 1) << (i % pack * aw))) | (addr << (i % pack * aw))
    rx.ev_count.value = i + 1


def _hdl_log_reset(ana, rise: int, fall: int, al: bool, ch: int, width: int) -> None:
    """p2m_tb_analog at ana_rst's fall: the entry {rise, fall, all, 7'd0, ch, width}."""
    rpack = len(ana.rst_log[0]) // 160
    j = ana.rst_count.value % (len(ana.rst_log) * rpack)
    entry = (rise << 96) | (fall << 32) | (int(al) << 31) | (ch << 16) | width
    w = ana.rst_log[j // rpack]
    sh = j % rpack * 160
    w.value = (w.value & ~(((1 << 160) - 1) << sh)) | (entry << sh)
    ana.rst_count.value += 1


@settings(max_examples=40, deadline=None)
@given(pack=st.integers(1, 9), rpack=st.sampled_from([1, 2, 4, 8]),
       fpack=st.integers(1, 5), chunks=st.lists(st.integers(0, 17), min_size=1, max_size=8),
       seed=st.integers(0, 2**16))
def test_hdl_agent_memories_roundtrip(pack: int, rpack: int, fpack: int, chunks: list[int],
                                      seed: int) -> None:
    """The packed HDL memories read and written by tb.hdl_agents.HdlReadout: flags written
    are what the HDL answers per channel; the events of a window come back in order; the
    reset log returns every pulse once, in order, across ring wrap-arounds at any alignment
    (a read of a full ring included)."""
    from tb.hdl_agents import HdlReadout

    geo = Geometry(n_ch=5, out_h=3, out_w=2)
    rdepth = 2 * 8
    top = _fake_hdl(geo, pack, rpack, fpack, rdepth)
    hdl = HdlReadout(top, geo, ClockTiming())
    rng = np.random.default_rng(seed)
    flags = rng.random((geo.n_ch, geo.n_neur)) < 0.4
    hdl.write_flags(flags)
    for c in range(geo.n_ch):       # what p2m_tb_analog answers for ana_ch_sel = c
        word = top.u_analog.mem[c // fpack].value >> (c % fpack * geo.n_neur)
        assert int_to_flags(word & ((1 << geo.n_neur) - 1), geo.n_neur).tolist() \
            == flags[c].tolist()
    for n in chunks:
        n = min(n, rdepth)
        addrs = rng.integers(0, 1 << geo.aw, size=n).tolist()
        for a in addrs:
            _hdl_push_event(top.u_aer_rx, a, geo.aw)
        assert hdl.read_events().tolist() == addrs
        assert top.u_aer_rx.ev_count.value == 0
        new = [(int(rng.integers(0, 2**63)), int(rng.integers(0, 2**63)),
                bool(rng.integers(0, 2)), int(rng.integers(0, 256)),
                int(rng.integers(0, 2**16))) for _ in range(n)]
        for r in new:
            _hdl_log_reset(top.u_analog, *r)
        got = hdl.read_resets()
        assert [(r.t_rise, r.t_fall, r.all, r.ch, r.width) for r in got] == new
    for _ in range(rdepth + 1):    # one more than the ring holds since the last read
        _hdl_log_reset(top.u_analog, 1, 2, False, 3, 4)
    with pytest.raises(AssertionError, match="reset log overflow"):
        hdl.read_resets()
