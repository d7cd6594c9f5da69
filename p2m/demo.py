"""`make demo` / `p2m demo`: the main job on the built-in default, end to end.

1. characterize the MDWMTJ array (Monte Carlo, f1/f2 fits, paper-style figures);
2. build a few samples of the built-in default event dataset (sklearn digits -> DVS
   emulation) and render one;
3. run the top-level RTL testbench under Icarus (cocotb + pyuvm) with waveforms.

Everything lands under ``out_dir``; nothing needs a download.
"""

from __future__ import annotations

import time
from pathlib import Path


def _step(title: str) -> float:
    print(f"\n=== {title}", flush=True)
    return time.perf_counter()


def run_demo(out_dir: str | Path = "out", instances: int = 1000, seed: int = 0,
             sim: bool = True) -> dict:
    """Run the demo; return a summary dict. ``out_dir`` is created if needed."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary: dict = {}

    from analog_models.characterization import run_characterization

    t0 = _step(f"1/3 characterization: {instances} Monte Carlo instances, seed {seed}")
    summary["characterization"] = run_characterization(
        out / "characterize", n_instances=instances, seed=seed, progress=True
    )
    print(f"    done in {time.perf_counter() - t0:.1f} s -> {out / 'characterize'}")

    from events.cli import demo_events

    t0 = _step("2/3 events: built-in default dataset (digits emulated as N-MNIST saccades)")
    summary["events"] = demo_events(out / "events", seed=seed)
    print(f"    done in {time.perf_counter() - t0:.1f} s -> {out / 'events'}")

    if sim:
        from tb.run import run_test

        t0 = _step("3/3 RTL: p2m_top testbench under Icarus with waveforms")
        sim_out = (out / "sim").resolve()
        res = run_test("test_p2m_top", seed=seed, waves=True, build_dir=sim_out)
        summary["sim"] = res
        print(f"    {res.tests} tests passed in {time.perf_counter() - t0:.1f} s -> {sim_out}")
        print(f"    waves: gtkwave {res.fst} {sim_out / 'test_p2m_top.gtkw'}")
    print(f"\nDemo outputs in {out.resolve()}")
    return summary
