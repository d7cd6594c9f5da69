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
    v_read: float = 0.35  # V, supply of the readout and threshold dividers. Calibrated: the
    # TMR roll-off seen by the divider sets the f2 non-linearity (paper: 11.38 %)
    comparator_offset_sigma: float = 1.0e-3  # V, comparator input offset sigma (assumption)
    reset_current: float = 100e-6  # A, magnitude of the long negative reset pulse (assumption)
    reset_pulse_width: float = 50e-9  # s, reset pulse (assumption; validated to sweep the
    # whole track: v(reset_current) * width >= l_fl)
    prog_current: float = 150e-6  # A, programming current of weight/threshold MDWMTJs,
    # above their I_TH2 (assumption)
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


@dataclass(frozen=True)
class DevicePreset:
    """A named, cited set of device and circuit parameters."""

    name: str
    description: str
    accumulator: MDWMTJParams = field(default_factory=MDWMTJParams)
    weight_device: MDWMTJParams = field(default_factory=lambda: MDWMTJParams(i_th=80e-6))
    threshold_device: MDWMTJParams = field(default_factory=lambda: MDWMTJParams(i_th=80e-6))
    transistor: TransistorParams = field(default_factory=TransistorParams)
    circuit: CircuitParams = field(default_factory=CircuitParams)

    def validate(self) -> None:
        self.accumulator.validate()
        self.weight_device.validate()
        self.threshold_device.validate()
        self.transistor.validate()
        c = self.circuit
        acc = self.accumulator
        if acc.velocity(c.reset_current) * c.reset_pulse_width < acc.l_fl:
            raise ValueError(
                f"circuit.reset_pulse_width: {c.reset_pulse_width} s at "
                f"{c.reset_current} A does not sweep the {acc.l_fl} m track back to q = 0"
            )
        for name in ("v_write_cmos", "v_write_mdwmtj", "v_write_cmosx", "v_gate",
                     "write_pulse_width", "jitter_sigma", "v_read", "comparator_offset_sigma",
                     "reset_current", "reset_pulse_width", "prog_current"):
            v = getattr(c, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"circuit.{name}: must be finite and >= 0, got {v!r}")
        if c.prog_current <= self.weight_device.i_th:
            raise ValueError(
                f"circuit.prog_current: {c.prog_current} A must exceed the weight device "
                f"I_TH2 {self.weight_device.i_th} A"
            )


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
    weight_device=MDWMTJParams(tmr0=6.0, i_th=80e-6),
    threshold_device=MDWMTJParams(tmr0=6.0, i_th=80e-6),
)

PRESETS: dict[str, DevicePreset] = {p.name: p for p in (PAPER_2024, HIGH_TMR)}


def get_preset(name: str) -> DevicePreset:
    """The preset called ``name`` (``ValueError`` naming it if unknown)."""
    if name not in PRESETS:
        raise ValueError(f"device_preset: unknown preset {name!r}, known: {sorted(PRESETS)}")
    preset = PRESETS[name]
    preset.validate()
    return preset
