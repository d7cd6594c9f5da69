"""Shared pytest configuration.

Hypothesis: no per-example deadline anywhere (CI machines are shared and noisy; the
property tests bound their work by ``max_examples``, speed is measured by ``make bench``).

Regression hook: after a pytest session that ran cocotb simulations (tests marked ``sim``),
print the functional coverage merged over the dumps those runs wrote
(``sim_build/<module>/coverage_<module>.json``) with per-covergroup percentages, the holes
and the closure goal (``tb/coverage.py``, ``tb/testplan.md``). Nothing happens when no
simulation ran. Under pytest-xdist the controller prints it (workers report to it).
"""

from __future__ import annotations

import time

from hypothesis import settings

settings.register_profile("p2m", deadline=None)
settings.load_profile("p2m")

_T0_KEY = "_p2m_session_t0"
_SIM_KEY = "_p2m_sim_ran"


def pytest_sessionstart(session) -> None:
    setattr(session.config, _T0_KEY, time.time())


def pytest_runtest_logreport(report) -> None:
    # on the controller under xdist too: the workers' reports carry the markers as keywords
    if report.when == "call" and not report.skipped and "sim" in report.keywords:
        globals()[_SIM_KEY] = True


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """End of the session: the merged coverage report (only when a sim test ran here)."""
    if hasattr(config, "workerinput") or not globals().get(_SIM_KEY):
        return
    from tb.coverage import session_report
    from tb.run import REGRESSION as TESTS
    from tb.run import REPO

    # a second of slack: file times may be coarser than time.time()
    since = getattr(config, _T0_KEY, 0.0) - 1.0
    text = session_report(REPO / "sim_build", TESTS, since)
    if text is None:
        return
    terminalreporter.section("functional coverage (merged over this session's simulations)")
    for line in text.splitlines():
        terminalreporter.write_line(line)


# --------------------------------------------------------------------------- golden
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory):
    """A tiny golden checkpoint (8 first-layer channels, 64 samples, 2 epochs) trained once
    per test session on the built-in default dataset."""
    import torch

    from golden.train import TrainConfig, train

    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("tiny_ck")
    cfg = TrainConfig(dataset="default", epochs=2, batch_size=16, limit=64, noise=0.1,
                      noise_warmup=0.0, quantize_from=0.5, lr=5e-3,
                      arch={"widths": [4, 8, 8], "hidden": 16, "p2m_channels": 8})
    train(cfg, out, progress=False, threads=1, log=lambda *a: None)
    return out
