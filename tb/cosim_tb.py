"""cocotb module of one co-simulation job (``tb.cosim`` runs it through tb.run; not a test
of the regression by itself).

The job is a JSON file named by the knob ``P2M_COSIM_JOB`` (written by
:func:`tb.cosim.write_job`):

    {"chip_config": path, "samples": [{"id": str, "events": path to a .npy structured
     array, "seed": int (optional: the receiver's delays restart from it at this sample,
     so that the sample's timing does not depend on the samples before it)}], "T": int,
     "seed": int, "backpressure": "none" | "random", "rst_width": int,
     "per_event": bool, "tap_interval_us": float | null, "checkpoint": path | null,
     "flags": "bridge" | "random", "timeout_s": float | null, "out": path,
     "watchdog": path}

It resets the chip, programs the configuration over APB (the bridge moves the devices and
must then equal the chip built from the file), streams every sample (tb.cosim_flow) and
scores it against the golden chip mode (tb.chip_scoreboard); the results go to ``out``
as JSON. ``flags = "random"`` (the benchmark's reference): the bridge is not used, a
random-flag agent writes flags of the same per-channel counts as the golden chip mode's
spikes (the same RTL work without the analog model).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import cocotb
import numpy as np
import pyuvm
from cocotb.triggers import RisingEdge, Timer

from analog_models.chip_config import ChipConfig
from tb.bridge_core import PS_PER_US
from tb.common import now_ps, np_rng, run_config
from tb.cosim_flow import (
    BACKPRESSURE_NS,
    END_MARGIN_PS,
    CosimTest,
    Watchdog,
    configure,
    program,
    start_windows,
)
from tb.hdl_agents import HdlReadout


def load_job() -> dict:
    path = run_config().knobs.get("P2M_COSIM_JOB")
    if not path:
        raise ValueError("P2M_COSIM_JOB: the job file is not set (tb.cosim writes it)")
    return json.loads(Path(path).read_text())


@pyuvm.test()
class CosimJob(CosimTest):
    """One job (module docstring)."""

    async def body(self) -> None:
        job = load_job()
        dog = Watchdog(job.get("timeout_s"), job.get("watchdog"))
        try:
            out = await self._run(job, dog)
        finally:
            dog.stop()
        Path(job["out"]).write_text(json.dumps(out) + "\n")

    async def _run(self, job: dict, dog: Watchdog) -> dict:
        cfg = ChipConfig.load(job["chip_config"])
        T, W = int(job["T"]), int(cfg.window_us)
        rst_width = int(job.get("rst_width", 16))
        bp = job.get("backpressure", "none")
        net = None
        if job.get("checkpoint"):
            from golden.checkpoint import load_net

            net, _ = load_net(job["checkpoint"])
        bridge = self.start_bridge(cfg, backpressure=bp, per_event=bool(job.get("per_event")),
                                   tap_interval_us=job.get("tap_interval_us"),
                                   rst_width=rst_width)
        dog.update("program")
        prog = await program(self.env, bridge, cfg)
        await configure(self.env, W, rst_width)
        results = []
        for s in job["samples"]:
            events = np.load(s["events"])
            dog.update("sample", sample_id=s["id"])
            seed = s.get("seed")   # this sample's own receiver delays (tb.cosim.write_job)
            if seed is not None:
                bridge.hdl.reseed(int(seed))
            if job.get("flags", "bridge") == "bridge":
                r = await self.run_and_score(cfg, events, T, rst_width=rst_width, net=net,
                                             progress=dog.update)
            else:
                bridge.stop()
                wall = await self._stream_random(cfg, events, T, W, rst_width,
                                                 *BACKPRESSURE_NS[bp])
                r = {"flags": "random", "stream_wall_s": wall, "sim_time_s": T * W / 1e6,
                     "realtime_factor": wall / (T * W / 1e6)}
            r.update(sample_id=s["id"], backpressure=bp)
            if seed is not None:
                r["seed"] = int(seed)
            results.append(r)
        bridge.check()
        return {"samples": results, "programming": prog, "seed": self.seed,
                "wakeups_by_kind": dict(bridge.wakeups), "core": vars(bridge.core.counters)}

    async def _stream_random(self, cfg: ChipConfig, events: np.ndarray, T: int, W: int,
                             rst_width: int, max_ack: float, max_rel: float) -> float:
        """The random-flag reference of the benchmark (module docstring): wall seconds of
        the streaming part."""
        from golden.chip import ChipFirstLayer

        counts = ChipFirstLayer(cfg, T).run(events).reshape(T, self.geo.n_ch, -1).sum(2)
        rng = np_rng("random_flags")
        flags = np.zeros((T, self.geo.n_ch, self.geo.n_neur), bool)
        for k in range(T):
            for c in range(self.geo.n_ch):
                flags[k, c, rng.choice(self.geo.n_neur, int(counts[k, c]), replace=False)] = True
        hdl = HdlReadout(self.dut, self.geo, self.timing)
        hdl.rst_width = rst_width
        hdl.enable(self.seed, max_ack, max_rel)

        async def serve() -> None:
            k = 0
            while True:
                await RisingEdge(self.dut.ana_sample)
                hdl.check_window()
                hdl.write_flags(flags[k] if k < T else self.geo.zeros())
                k += 1

        await self.regs.write("RST_WIDTH", rst_width)
        task = cocotb.start_soon(serve())
        t0 = time.perf_counter()
        t_end = await start_windows(self.env) + T * W * PS_PER_US + END_MARGIN_PS
        await Timer(t_end - now_ps(), unit="ps")
        await self.env.stop_windows()
        wall = time.perf_counter() - t0
        task.cancel()
        hdl.check_window()
        return wall

