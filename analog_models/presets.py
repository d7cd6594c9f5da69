"""Device and circuit presets: frozen, cited dataclasses (in the style of aihwkit's presets).

Every number carries its source in a comment: the paper (Kaiser, Datta, Beerel, Jaiswal
2024, "Toward high performance, programmable extreme-edge intelligence for neuromorphic
vision sensors utilizing magnetic domain wall motion-based MTJ"), Wang et al. 2020 (IEEE
TED 67(6) 2621, compact model of DMI-DW-MTJ), Alamdar et al. 2021 (APL 118, 112401, DW-MTJ
SOT devices), Sengupta et al. 2016 (TBioCAS 10(6) 1152, three parallel MTJ model), Luo et
al. 2021 (APL 118, 052402, current-controlled DW integrator), Edwards et al. 2024
(kinematic DW model). A number we chose ourselves is marked **assumption**; a number we
tuned so that the Monte Carlo statistics land on the paper's figures is marked
**calibrated** (see ``docs/analog_models.md``, "Calibration").

Units: SI throughout (metres, seconds, amperes, ohms, volts).

Pulse widths are coherent with the RTL's defaults at its documented clock
(:data:`RTL_CLOCK_HZ`, 100 MHz, ``docs/rtl.md``): ``RST_WIDTH`` 16 cycles (accumulator
reset), ``PROG_RST_WIDTH`` 32 and ``PROG_SET_WIDTH`` 4 cycles (programming), see
``rtl/REGISTERS.md``. :meth:`DevicePreset.pulse_requirements` states the minimum widths in
seconds and in cycles at any clock; :func:`cycles_at` converts.

Look a preset up by name with :func:`get_preset` (``ChipConfig.device_preset``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import numpy as np


def _check_positive_fields(params) -> None:
    """``ValueError`` naming ``<Class>.<field>`` unless every field is a finite number > 0."""
    for f in fields(params):
        v = getattr(params, f.name)
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise ValueError(f"{type(params).__name__}.{f.name}: must be finite and > 0, got {v!r}")


@dataclass(frozen=True)
class MDWMTJParams:
    """One SOT-driven domain-wall MTJ (paper Fig. 1a).

    The DW position ``q`` runs from 0 (all free layer parallel, ``R_P``) to ``l_fl`` (all
    antiparallel, ``R_AP``) (paper Sec. 2). A write current ``I`` through the heavy metal
    (T1 -> T2) moves the wall right at ``v(I) = c1 (I - I_th) + c2 (I - I_th)^2`` for
    ``I > I_th`` and not at all below (pinning: the state is non-volatile), paper Fig. 1b
    (2nd-order polynomial fit of DW velocity versus write current).
    """

    r_p: float = 10e3  # ohm, R_P at zero bias. Paper Sec. 3.1: TMR = 200 %; issue: R_P 10 kOhm
    tmr0: float = 2.0  # TMR at zero bias, (R_AP - R_P)/R_P = 200 % (paper Sec. 3.1)
    v_half: float = 0.5  # V, bias where TMR halves, TMR(V) = TMR0/(1+(V/v_half)^2).
    # Fig. 1c (TMR falls with bias); the Lorentzian roll-off and V_h = 0.5 V are the usual
    # compact-model choice (assumption; consistent with the NEGF curves in Fig. 1c).
    l_fl: float = 1.0e-6  # m, free-layer (track) length. Assumption: µm-scale tracks as in
    # Alamdar et al. 2021 and Luo et al. 2021.
    dw_width: float = 10e-9  # m, Walker wall-width parameter Delta. Assumption, typical of
    # PMA CoFeB with DMI (Wang et al. 2020 use a few nm to ~10 nm).
    r_hm: float = 500.0  # ohm, heavy-metal write path T1-T2. Assumption (a W/Ta strip of
    # ~1 µm x 50 nm x 5 nm at ~2 µOhm m is 400-800 Ohm).
    hm_read_fraction: float = 0.5  # share of the HM in the read path T3-T2 (assumption: the
    # read current enters the HM under the MTJ centre on average)
    i_th: float = 10e-6  # A, depinning (threshold) current of the ACCUMULATOR devices,
    # I_TH1 (paper Sec. 3.1). Assumption: J_th ~ 5e10 A/m^2 over a 50 nm x 4 nm HM section.
    c1: float = 3.5e6  # m/s/A, linear coefficient of v(I - I_th). Assumption chosen so that
    # v(30 µA) = 100 m/s, in the range of SOT-DMI walls (Wang et al. 2020; Alamdar 2021).
    c2: float = 7.5e10  # m/s/A^2, quadratic coefficient: 30 % of v at I_W,MAX comes from
    # the 2nd-order term (paper Fig. 1b shape; assumption on the exact share).
    r_var_3sigma: float = 0.20  # relative MDWMTJ resistance variation, taken as the +-3 sigma
    # bound of a truncated Gaussian (paper Sec. 3.2/4: "20% resistance variations")

    def validate(self) -> None:
        _check_positive_fields(self)
        if self.dw_width >= self.l_fl / 4:
            raise ValueError(f"MDWMTJParams.dw_width: {self.dw_width} too wide for l_fl {self.l_fl}")

    @property
    def r_ap(self) -> float:
        """R_AP at zero bias (ohm): R_P (1 + TMR0) = 30 kOhm for the paper preset."""
        return self.r_p * (1.0 + self.tmr0)

    def velocity(self, current: np.ndarray | float) -> np.ndarray:
        """DW velocity (m/s) for a write-current magnitude (A); 0 at or below ``i_th``."""
        di = np.maximum(np.asarray(current, dtype=np.float64) - self.i_th, 0.0)
        return self.c1 * di + self.c2 * di * di


@dataclass(frozen=True)
class TransistorParams:
    """NMOS model for the weight transistors (EKV long-channel, all regions).

    ``I = 2 n beta U_T^2 [F((V_P-V_S)/U_T) - F((V_P-V_D)/U_T)] (1 + lambda V_DS)`` with
    ``F(u) = ln^2(1 + exp(u/2))``, ``V_P = (V_G - V_T)/n``, ``beta = kp W/L``.
    Values are representative of a 22 nm FD-SOI thin-oxide device (assumption: the foundry
    models are not public); mismatch follows Pelgrom, sigma_VT = A_VT/sqrt(W L).
    """

    vt0: float = 0.35  # V, threshold voltage (assumption, GF22FDX regular-VT ~0.3-0.4 V)
    n: float = 1.3  # subthreshold slope factor (assumption)
    kp: float = 300e-6  # A/V^2, mu C_ox (assumption)
    lam: float = 0.45  # 1/V, output conductance (channel-length modulation + DIBL), lumped.
    # Calibrated: with the CMOS+X series MDWMTJ it sets the programmable range (paper: 30-40 %)
    length: float = 0.8e-6  # m, gate length of the weight transistors (assumption: long
    # devices for matching, as usual for analog current sources)
    w_unit: float = 80e-9  # m, width step per transistor code (assumption, 22 nm FD-SOI
    # minimum width ~80 nm)
    a_vt: float = 2.5e-9  # V m (2.5 mV um), Pelgrom V_T mismatch coefficient. Calibrated:
    # tuned so the CMOS worst case lands on the paper's 10.94 % (FD-SOI literature: 1-3 mV um)
    a_beta: float = 0.003e-6  # m (0.3 % um), Pelgrom current-factor mismatch (assumption)
    n_sigma: float = 3.0  # paper Sec. 4: "3-sigma variation for GF22nm FD-SOI devices":
    # Gaussian mismatch truncated at +-3 sigma
    u_t: float = 0.02585  # V, thermal voltage kT/q at 300 K

    def validate(self) -> None:
        _check_positive_fields(self)


@dataclass(frozen=True)
class CircuitParams:
    """The P2M circuit around the devices (paper Figs. 2b, 3, 4)."""

    v_write_cmos: float = 0.8  # V, write-path supply of the CMOS weight cells (assumption:
    # GF22FDX 0.8 V core supply)
    v_write_mdwmtj: float = 0.45  # V, write-path supply of the MDWMTJ-only cells (assumption:
    # chosen so that R_P gives about the same I_W,MAX as the CMOS cells)
    v_write_cmosx: float = 0.65  # V, write-path supply of the CMOS+X cells. Calibrated with
    # cmosx_w_codes: the MDWMTJ drop pushes the transistor towards its saturation edge,
    # which sets the programmable range (paper Sec. 3.1: 30-40 % for most weights)
    v_gate: float = 0.8  # V, gate level of the weight transistor during an event pulse
    write_pulse_width: float = 0.15e-9  # s, event write pulse (assumption; with v(I_W,MAX)
    # ~ 100 m/s a full-scale event moves a 1 µm track by ~1/64)
    jitter_sigma: float = 0.10  # relative sigma of the write-pulse width, paper Sec. 3.2:
    # "10% Gaussian jitter in the write pulse"
    v_read: float = 0.12  # V, supply of the readout and threshold dividers. Design (paper
    # Sec. 1/2: SOT devices have a decoupled read path that must not write): the read
    # current crosses the accumulators' heavy metal, so it must stay below I_TH1 at every
    # corner. 0.12 V gives at most 7.3 uA (both walls at q = 0, -20 % R: 73 % of I_TH1,
    # DevicePreset.read_current_max); the old 0.35 V (calibrated on the f2 non-linearity)
    # drove 17.1 uA (21.3 uA at -20 % R) and would have moved the walls on every read
    read_margin: float = 0.25  # required margin of the worst-case read current below I_TH1
    # (assumption: covers I_TH1 spread and thermally assisted creep; checked by validate())
    comparator_offset_sigma: float = 1.0e-3  # V, comparator input offset sigma (assumption)
    comparator_trim_lsb: float = 0.5e-3  # V, step of each comparator's offset-trim DAC
    # (beyond the paper: a per-neuron trim, as offset-calibrated comparators carry (Razavi,
    # "The StrongARM latch", IEEE Solid-State Circuits Magazine 7(2), 2015); set by a
    # calibration at rest, analog_models.calibration)
    comparator_trim_bits: int = 6  # signed trim codes -32..31: +-16 mV at 0.5 mV, above the
    # largest rest offset of a chip with the paper's variation (15 mV measured, 3-sigma)
    reset_current: float = 13.5e-6  # A, magnitude of the long negative accumulator reset
    # pulse (paper Sec. 2: "a long-duration current from T2 to T1"). Assumption, chosen for
    # the RTL's RST_WIDTH: v(13.5 uA) = 13.2 m/s sweeps the 1 um track in 75.9 ns = 7.6
    # cycles at 100 MHz, so the default 16 cycles have a 2.1x margin and a pulse of 7 cycles
    # or less leaves a wall from the far end short of q = 0 (min_reset_width_s)
    reset_pulse_width: float = 160e-9  # s, nominal accumulator reset pulse: RST_WIDTH = 16
    # cycles at RTL_CLOCK_HZ (rtl/REGISTERS.md, docs/rtl.md); must sweep the whole track
    prog_current: float = 150e-6  # A, programming RESET current of the weight/threshold
    # MDWMTJs, above their I_TH2 (assumption); with the thick-FL velocity curve
    # (THICK_FL_MOBILITY) it sweeps the track in 131 ns = 13.1 cycles at 100 MHz
    prog_reset_width: float = 320e-9  # s, nominal programming reset pulse: PROG_RST_WIDTH =
    # 32 cycles at RTL_CLOCK_HZ (rtl/REGISTERS.md): 2.45x the sweep time
    prog_set_width: float = 40e-9  # s, nominal programming set pulse: PROG_SET_WIDTH = 4
    # cycles at RTL_CLOCK_HZ (rtl/REGISTERS.md). The set current of each target is trimmed so
    # that this width moves the wall by exactly one code step, l_fl / (2**bits - 1)
    # (DevicePreset.set_current); the step scales with the width the RTL produces
    mdwmtj_switch_w_codes: int = 30  # width (in w_unit) of the switch transistor of the
    # MDWMTJ-only weight cell (assumption: wide, so the MDWMTJ sets the current)
    cmos_w_codes: tuple[float, float] = (4.0, 11.2)  # transistor width codes (in w_unit) mapped to
    # the lowest / highest CMOS weight code (assumption: code 0 sits just above I_TH1)
    cmosx_w_codes: tuple[float, float] = (3.5, 10.0)  # same, for the CMOS+X transistor
    # (calibrated together with v_write_cmosx)
    cmosx_size_scale: float = 1.6  # CMOS+X weight transistors are this much wider AND
    # longer than the CMOS ones (same W/L, same current, 2.6x the area, so less mismatch).
    # Calibrated: sets the CMOS+X worst case (paper: 8.03 %, below CMOS's 10.94 %)
    cmosx_mtj_code: int = 0  # nominal MDWMTJ code of a CMOS+X cell (4-bit): the position
    # the characterization programs and codes_for_weights assumes (assumption: the reset
    # state R_P, where the trim is least sensitive to the 20 % resistance variation; set
    # pulses trim the weight down)


#: The RTL's documented clock (``docs/rtl.md``: default 100 MHz; ``TICK_DIV`` = 100 makes a
#: 1 us tick). The nominal pulse widths above are the RTL's default cycle counts at it.
RTL_CLOCK_HZ = 100e6

#: DW velocity per unit overdrive of the weight and threshold MDWMTJs (thick free layer,
#: I_TH2 = 8 I_TH1) relative to the accumulators': v_2(I) = THICK_FL_MOBILITY * v_1-shape
#: (c1, c2 scaled). Assumption: the SOT drive per unit current falls with the FL thickness
#: (Zhu et al. 2020: thicker FL, higher threshold) and near a high depinning threshold the
#: wall moves slowly; the value makes the RTL's default programming widths coherent (a
#: 40 ns set pulse = one code step needs 87.8 uA for 6-bit thresholds, 104.9 uA for 4-bit
#: weights, both above I_TH2 = 80 uA; 150 uA sweeps the track in 131 ns). The weight
#: devices never move during a MAC (I_W,MAX < I_TH2), so f1 does not depend on it.
THICK_FL_MOBILITY = 1.0 / 80.0


def thick_fl_device(**kw) -> MDWMTJParams:
    """An I_TH2 device (weight or threshold MDWMTJ): thicker free layer, ``i_th`` 80 uA
    (paper Sec. 3.1: I_TH2 > I_W,MAX; value an assumption), velocity coefficients scaled by
    :data:`THICK_FL_MOBILITY`; ``kw`` overrides further fields (e.g. ``tmr0``)."""
    base = MDWMTJParams()
    kw = {"i_th": 80e-6, "c1": base.c1 * THICK_FL_MOBILITY,
          "c2": base.c2 * THICK_FL_MOBILITY, **kw}
    return MDWMTJParams(**kw)


def cycles_at(width_s: float, f_clk_hz: float = RTL_CLOCK_HZ) -> int:
    """The fewest whole clock cycles at ``f_clk_hz`` (Hz) that last at least ``width_s`` (s)."""
    for name, v in (("width_s", width_s), ("f_clk_hz", f_clk_hz)):
        if not (isinstance(v, (int, float, np.floating)) and math.isfinite(v) and v >= 0):
            raise ValueError(f"{name}: must be finite and >= 0, got {v!r}")
    if f_clk_hz <= 0:
        raise ValueError(f"f_clk_hz: must be > 0, got {f_clk_hz!r}")
    return int(math.ceil(width_s * f_clk_hz * (1.0 - 1e-12)))


@dataclass(frozen=True)
class DevicePreset:
    """A named, cited set of device and circuit parameters."""

    name: str
    description: str
    accumulator: MDWMTJParams = field(default_factory=MDWMTJParams)
    weight_device: MDWMTJParams = field(default_factory=thick_fl_device)
    threshold_device: MDWMTJParams = field(default_factory=thick_fl_device)
    transistor: TransistorParams = field(default_factory=TransistorParams)
    circuit: CircuitParams = field(default_factory=CircuitParams)

    def validate(self) -> None:
        self.accumulator.validate()
        self.weight_device.validate()
        self.threshold_device.validate()
        self.transistor.validate()
        c = self.circuit
        acc = self.accumulator
        for name in ("v_write_cmos", "v_write_mdwmtj", "v_write_cmosx", "v_gate",
                     "write_pulse_width", "jitter_sigma", "v_read", "comparator_offset_sigma",
                     "comparator_trim_lsb",
                     "reset_current", "reset_pulse_width", "prog_current", "prog_reset_width",
                     "prog_set_width", "read_margin"):
            v = getattr(c, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"circuit.{name}: must be finite and >= 0, got {v!r}")
        if c.prog_set_width <= 0:
            raise ValueError(f"circuit.prog_set_width: must be > 0, got {c.prog_set_width!r}")
        if not c.read_margin < 1:
            raise ValueError(f"circuit.read_margin: must be < 1, got {c.read_margin!r}")
        if acc.velocity(c.reset_current) * c.reset_pulse_width < acc.l_fl:
            raise ValueError(
                f"circuit.reset_pulse_width: {c.reset_pulse_width} s at "
                f"{c.reset_current} A does not sweep the {acc.l_fl} m track back to q = 0"
            )
        for dev in ("weight_device", "threshold_device"):
            p = getattr(self, dev)
            if c.prog_current <= p.i_th:
                raise ValueError(f"circuit.prog_current: {c.prog_current} A must exceed the "
                                 f"{dev} I_TH2 {p.i_th} A")
            if p.velocity(c.prog_current) * c.prog_reset_width < p.l_fl:
                raise ValueError(
                    f"circuit.prog_reset_width: {c.prog_reset_width} s at {c.prog_current} A "
                    f"does not sweep the {dev}'s {p.l_fl} m track back to q = 0")
        i_read = self.read_current_max()
        if i_read > (1.0 - c.read_margin) * acc.i_th:
            raise ValueError(
                f"circuit.v_read: {c.v_read} V drives up to {i_read:.3e} A through the "
                f"accumulators' heavy metal, above (1 - read_margin) x I_TH1 = "
                f"{(1.0 - c.read_margin) * acc.i_th:.3e} A: reading would move the walls")

    # ------------------------------------------------------------ read path
    def read_current_max(self) -> float:
        """Largest read current (A) through an accumulator (its tunnel junction and heavy
        metal, in series) over every corner: the divider's current is largest when both
        devices have their smallest resistance, i.e. both walls at q = 0, where R = R_P
        whatever the bias (the TMR roll-off acts on R_AP only), with R_P and the heavy
        metal at -3 sigma (x (1 - r_var_3sigma)). ``tests/test_analog_pulses.py`` checks it
        against a solve of the divider over positions and corners."""
        acc = self.accumulator
        low = 1.0 - acc.r_var_3sigma
        r_min = acc.r_p * low + acc.hm_read_fraction * acc.r_hm * low
        return self.circuit.v_read / (2.0 * r_min)

    # ------------------------------------------------------------ pulse widths
    def min_reset_width_s(self) -> float:
        """Shortest accumulator reset pulse (s) that brings a wall from the far end
        (q = l_fl) back to q = 0 at ``circuit.reset_current``: ``l_fl / v(I_reset)``."""
        acc = self.accumulator
        return acc.l_fl / float(acc.velocity(self.circuit.reset_current))

    def min_prog_reset_width_s(self, target: str = "weight") -> float:
        """Shortest programming reset pulse (s) that sweeps a ``target`` ("weight" or
        "threshold") device back to q = 0 at ``circuit.prog_current``."""
        p = self._prog_device(target)
        return p.l_fl / float(p.velocity(self.circuit.prog_current))

    def set_current(self, target: str, bits: int) -> float:
        """Programming set current (A) of a ``target`` device with ``bits``-bit codes: the
        current at which a set pulse of the nominal width ``circuit.prog_set_width`` moves
        the wall by one code step ``l_fl / (2**bits - 1)`` (inverse of v(I), Fig. 1b)."""
        p = self._prog_device(target)
        if not isinstance(bits, (int, np.integer)) or not 1 <= bits <= 16:
            raise ValueError(f"bits: must be an integer in [1, 16], got {bits!r}")
        v = p.l_fl / (2**int(bits) - 1) / self.circuit.prog_set_width
        # v = c1 x + c2 x^2, x = I - I_th > 0
        x = (-p.c1 + math.sqrt(p.c1 * p.c1 + 4.0 * p.c2 * v)) / (2.0 * p.c2) if p.c2 else v / p.c1
        return p.i_th + x

    def _prog_device(self, target: str) -> MDWMTJParams:
        if target == "weight":
            return self.weight_device
        if target == "threshold":
            return self.threshold_device
        raise ValueError(f"target: must be 'weight' or 'threshold', got {target!r}")

    def pulse_requirements(self, f_clk_hz: float = RTL_CLOCK_HZ, weight_bits: int = 4,
                           threshold_bits: int = 6) -> list[dict]:
        """The pulse-width table at clock ``f_clk_hz`` (Hz): one row per pulse with its
        ``current_A``, ``nominal_s``/``nominal_cycles`` (the preset's width) and
        ``min_s``/``min_cycles`` (shortest width that does the job; for set pulses the width
        is a calibration, not a minimum: a set pulse moves ``width / nominal`` code steps),
        and ``margin`` = nominal / min."""
        c = self.circuit
        rows = [("accumulator reset (ana_rst, RST_WIDTH)", c.reset_current, c.reset_pulse_width,
                 self.min_reset_width_s()),
                ("weight device reset (ana_prog dir 1, PROG_RST_WIDTH)", c.prog_current,
                 c.prog_reset_width, self.min_prog_reset_width_s("weight")),
                ("threshold device reset (ana_prog dir 1, PROG_RST_WIDTH)", c.prog_current,
                 c.prog_reset_width, self.min_prog_reset_width_s("threshold")),
                (f"weight set, {weight_bits}-bit code step (PROG_SET_WIDTH)",
                 self.set_current("weight", weight_bits), c.prog_set_width, c.prog_set_width),
                (f"threshold set, {threshold_bits}-bit code step (PROG_SET_WIDTH)",
                 self.set_current("threshold", threshold_bits), c.prog_set_width,
                 c.prog_set_width)]
        return [{"pulse": name, "current_A": float(i), "nominal_s": float(nom),
                 "nominal_cycles": cycles_at(nom, f_clk_hz), "min_s": float(mn),
                 "min_cycles": cycles_at(mn, f_clk_hz), "margin": float(nom / mn)}
                for name, i, nom, mn in rows]


    def v_write(self, weight_config: str) -> float:
        """Write-path supply (V) of the weight cells of ``weight_config``."""
        c = self.circuit
        return {"cmos": c.v_write_cmos, "mdwmtj": c.v_write_mdwmtj,
                "cmos+x": c.v_write_cmosx}[weight_config]


#: The paper's preset (TMR 200 %, 3-sigma mismatch, 20 % R variation, 10 % jitter).
PAPER_2024 = DevicePreset(
    name="paper2024",
    description="Kaiser et al. 2024: SOT MDWMTJ, TMR 200 %, GF22FDX-like weight transistors",
)

#: A higher-TMR device (Ikeda et al. 2008 report up to 604 % at 300 K), for what-if studies.
HIGH_TMR = DevicePreset(
    name="high_tmr",
    description="As paper2024 but TMR 600 % (Ikeda et al. 2008, upper end of paper Sec. 1)",
    accumulator=MDWMTJParams(tmr0=6.0),
    weight_device=thick_fl_device(tmr0=6.0),
    threshold_device=thick_fl_device(tmr0=6.0),
)

PRESETS: dict[str, DevicePreset] = {p.name: p for p in (PAPER_2024, HIGH_TMR)}


def get_preset(name: str) -> DevicePreset:
    """The preset called ``name`` (``ValueError`` naming it if unknown)."""
    if name not in PRESETS:
        raise ValueError(f"device_preset: unknown preset {name!r}, known: {sorted(PRESETS)}")
    preset = PRESETS[name]
    preset.validate()
    return preset
