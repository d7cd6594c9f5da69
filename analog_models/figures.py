"""PNG figures like the paper's Fig. 1(b-d), 4(b-c) and 6(a-d) (matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from analog_models.fitted import poly_eval_origin  # noqa: E402
from analog_models.mdwmtj import effective_resistance, tmr  # noqa: E402
from analog_models.presets import DevicePreset  # noqa: E402


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def fig1(out: Path, pr: DevicePreset) -> list[Path]:
    """Fig. 1(b) velocity vs current, (c) R_P/R_AP vs bias, (d) R_eff vs DW position."""
    acc = pr.accumulator
    paths = []
    i = np.linspace(0, 2.5 * 30e-6, 300)
    fig, ax = plt.subplots(figsize=(4.2, 3.2))
    ax.plot(i * 1e6, acc.velocity(i), "k-")
    ax.axvline(acc.i_th * 1e6, ls=":", c="gray", label="I_TH1")
    ax.set_xlabel("write current (µA)")
    ax.set_ylabel("DW velocity (m/s)")
    ax.set_title("Fig. 1(b): v = c1 dI + c2 dI²")
    ax.legend()
    paths.append(_save(fig, out / "fig1b_velocity.png"))
    v = np.linspace(-0.8, 0.8, 301)
    fig, ax = plt.subplots(figsize=(4.2, 3.2))
    ax.plot(v, np.full_like(v, acc.r_p) / 1e3, label="R_P")
    ax.plot(v, acc.r_p * (1 + tmr(acc, v)) / 1e3, label="R_AP")
    ax.set_xlabel("bias (V)")
    ax.set_ylabel("MTJ resistance (kΩ)")
    ax.set_title("Fig. 1(c): TMR roll-off")
    ax.legend()
    paths.append(_save(fig, out / "fig1c_resistance_vs_bias.png"))
    d = np.linspace(0, 1, 201)
    fig, ax = plt.subplots(figsize=(4.2, 3.2))
    for vb in (0.0, 0.2, 0.4):
        ax.plot(d * acc.l_fl * 1e9, effective_resistance(acc, d, vb) / 1e3, label=f"{vb:.1f} V")
    ax.set_xlabel("DW position q (nm)")
    ax.set_ylabel("R_eff incl. HM (kΩ)")
    ax.set_title("Fig. 1(d): R(q, V)")
    ax.legend()
    paths.append(_save(fig, out / "fig1d_resistance_vs_position.png"))
    return paths


def fig6(out: Path, f1: dict, f2: dict) -> list[Path]:
    """Fig. 6(a-c) d_norm vs x with Monte Carlo spread and f1; (d) V_norm vs d_diff."""
    paths = []
    for tag, key in (("a", "cmos"), ("b", "mdwmtj"), ("c", "cmos+x")):
        r = f1[key]
        x = np.broadcast_to(r["x"], r["d"].shape)
        fig, ax = plt.subplots(figsize=(4.2, 3.4))
        k = min(200, r["d"].shape[0])
        ax.scatter(x[:k].ravel(), r["d"][:k].ravel(), s=1, alpha=0.15, c="tab:blue",
                   rasterized=True, label=f"{r['d'].shape[0]} MC (200 shown)")
        xs = np.linspace(0, 1, 101)
        ax.plot(xs, np.clip(poly_eval_origin(r["f1"], xs), 0, 1), "r-", label="f1 fit")
        ax.set_xlim(0, 1.05)
        ax.set_ylim(0, 1.05)
        ax.set_xlabel("normalized input activation x weight")
        ax.set_ylabel("d_NORM")
        ax.set_title(f"Fig. 6({tag}) {key}: worst {100 * r['worst_case']:.1f} %")
        ax.legend(loc="upper left", fontsize=7)
        paths.append(_save(fig, out / f"fig6{tag}_{key.replace('+', '_')}.png"))
    fig, ax = plt.subplots(figsize=(4.6, 3.6))
    dd = (f2["d_pos"] - f2["d_neg"]).ravel()
    k = min(100, f2["v_norm"].shape[0])
    # Monte Carlo with the 20 % R variation: light, behind (not what the title's % measures)
    ax.scatter(np.broadcast_to(dd, (k, dd.size)).ravel(), f2["v_norm"][:k].reshape(k, -1).ravel(),
               s=1, alpha=0.08, c="0.6", rasterized=True,
               label=f"MC, 20 % R var. ({k} inst.; spread {100 * f2['worst_case_mc']:.0f} %)")
    d = f2["d_diff"]
    ax.fill_between(d, f2["nominal_lower"], f2["nominal_upper"], color="tab:blue", alpha=0.35,
                    label="non-linearity band (nominal)")
    ax.scatter(dd, f2["nominal"].ravel(), s=3, c="tab:blue", label="nominal combinations")
    xs = np.linspace(-1, 1, 201)
    ax.plot(xs, f2["f2_lower"][0] + poly_eval_origin(f2["f2_lower"][1:], xs), "r-",
            label="f2: lower bound (fit)")
    ax.set_xlabel("d_NORM,DIFF")
    ax.set_ylabel("normalized V_ACT,PRE")
    ax.set_title(f"Fig. 6(d): f2 non-linearity (nominal) {100 * f2['worst_case']:.1f} %",
                 fontsize=9)
    ax.legend(fontsize=6, loc="upper left")
    paths.append(_save(fig, out / "fig6d_preactivation.png"))
    return paths


def fig4(out: Path, r: dict) -> list[Path]:
    """Fig. 4(b) DW traces of a few runs and (c) final V_pre vs V_th over the Monte Carlo runs
    (per-run threshold), with the margin histogram of both threshold choices."""
    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(12.6, 3.6))
    tr = r["traces"]
    if tr is not None:
        for k in range(len(tr["t"])):
            t = np.concatenate([[0.0], tr["t"][k], [r["window_s"]]]) * 1e3
            pos = np.concatenate([tr["pos"][k], tr["pos"][k][-1:]])
            neg = np.concatenate([tr["neg"][k], tr["neg"][k][-1:]])
            a1.step(t, pos, where="post", c="tab:red", alpha=0.6,
                    label="ACC_POS" if k == 0 else None)
            a1.step(t, neg, where="post", c="tab:blue", alpha=0.6,
                    label="ACC_NEG" if k == 0 else None)
    a1.set_xlabel("time (ms)")
    a1.set_ylabel("d_NORM")
    a1.set_title(f"Fig. 4(b): DWs of {0 if tr is None else len(tr['t'])} runs", fontsize=9)
    a1.legend(fontsize=7)
    pr_ = r["per_run"]
    v_th = (pr_["v_th"] + r["offset"]) * 1e3
    spike = pr_["margin"] > 0
    a2.scatter(v_th[spike], r["v_pre"][spike] * 1e3, s=3, c="tab:green", label="spike")
    a2.scatter(v_th[~spike], r["v_pre"][~spike] * 1e3, s=3, c="tab:red", label="no spike")
    lim = [min(v_th.min(), r["v_pre"].min() * 1e3), max(v_th.max(), r["v_pre"].max() * 1e3)]
    a2.plot(lim, lim, "k:", lw=1, label="V_pre = V_th")
    a2.set_xlabel("V_th + comparator offset (mV)")
    a2.set_ylabel("final V_pre (mV)")
    a2.set_title(f"Fig. 4(c): {r['n']} runs, V_th {r['th_offset_norm']:.2f} x (V_max - V_mid) "
                 f"below nominal;\nspikes {100 * pr_['spike_fraction']:.1f} %", fontsize=8)
    a2.legend(fontsize=7)
    fx = r["fixed"]
    bins = np.linspace(min(pr_["margin"].min(), fx["margin"].min()) * 1e3,
                       max(pr_["margin"].max(), fx["margin"].max()) * 1e3, 50)
    a3.hist(pr_["margin"] * 1e3, bins=bins, alpha=0.6,
            label=f"per-run V_th (mean {1e3 * pr_['margin'].mean():.1f} mV)")
    a3.hist(fx["margin"] * 1e3, bins=bins, alpha=0.6,
            label=f"fixed code {fx['threshold_code']} (= nominal {100 * fx['agree_fraction']:.0f} %)")
    a3.axvline(0, c="k", lw=1)
    a3.set_xlabel("sense margin V_pre - V_th - offset (mV)")
    a3.set_ylabel("runs")
    a3.set_title("sense margin", fontsize=9)
    a3.legend(fontsize=7)
    return [_save(fig, out / "fig4_sense_margin.png")]


def fig_prog_range(out: Path, prog: np.ndarray) -> list[Path]:
    fig, ax = plt.subplots(figsize=(4.2, 3.2))
    ax.bar(np.arange(prog.size), 100 * prog)
    ax.axhspan(30, 40, color="green", alpha=0.15, label="paper: 30-40 %")
    ax.set_xlabel("CMOS+X transistor code")
    ax.set_ylabel("programmable range (% of centre)")
    ax.legend(fontsize=7)
    return [_save(fig, out / "cmosx_programmable_range.png")]


def write_all(out: Path, pr: DevicePreset, f1: dict, f2: dict, fig4_result: dict | None,
              prog: np.ndarray) -> list[Path]:
    """All figures into ``out``; returns their paths."""
    out = Path(out)
    paths = fig1(out, pr) + fig6(out, f1, f2) + fig_prog_range(out, prog)
    if fig4_result is not None:
        paths += fig4(out, fig4_result)
    return paths
