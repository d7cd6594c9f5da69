"""The accuracy regression: every shipped checkpoint (golden/checkpoints/<name>) evaluated
on its fixed evaluation set reproduces the accuracy recorded beside it (regression.json,
written by ``p2m eval ... --record``), in fitted and in chip mode, within a stated
tolerance: the evaluation is deterministic on one machine (seeded noise, integer DW
ticks), but another CPU's floating point may flip a sample on a knife edge.

The real N-MNIST checkpoint needs the real data (``P2M_NMNIST_DIR``, default
``../shared/data/nmnist-small``) and skips, saying so, when it is absent.
"""

import json
import os
from pathlib import Path

import pytest

from golden.cli import shipped_checkpoints, shipped_dir
from golden.evaluate import REGRESSION, evaluate

#: Accuracy tolerance: two samples of the 100 of the N-MNIST hold-out, 1.5 points of the 359
#: test samples of the default dataset.
TOLERANCE = {"default": 0.015, "nmnist": 0.02}
SHIPPED = shipped_checkpoints()
#: The issue's targets (recorded accuracy, test split).
TARGET = {"default": 0.95, "nmnist": 0.92}


def _case(name: str, mode: str):
    folder = shipped_dir() / name
    meta = json.loads((folder / "model.json").read_text())
    reg = json.loads((folder / REGRESSION).read_text())
    kind = meta["train"]["dataset"]
    data = None
    if kind == "nmnist":
        data = os.environ.get("P2M_NMNIST_DIR")
        if not data or not Path(data).is_dir():
            pytest.skip(f"{name}: the real N-MNIST subset is absent (set P2M_NMNIST_DIR to "
                        "the nmnist-small folder)")
    return folder, kind, data, reg["entries"][mode]


def test_every_shipped_checkpoint_has_its_command_and_record():
    assert SHIPPED, "no shipped checkpoints under golden/checkpoints"
    for name in SHIPPED:
        folder = shipped_dir() / name
        meta = json.loads((folder / "model.json").read_text())
        assert meta["command"].startswith("p2m train") and "--seed" in meta["command"]
        reg = json.loads((folder / REGRESSION).read_text())
        assert {"fitted", "chip"} <= set(reg["entries"]), name
        assert (folder / "README.md").is_file()


@pytest.mark.parametrize("mode", ["fitted", "chip"])
@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_checkpoint_reproduces_its_recorded_accuracy(name, mode):
    import torch

    torch.set_num_threads(1)
    folder, kind, data, rec = _case(name, mode)
    r = evaluate(folder, data=data, split=rec["split"], mode=mode, limit=rec["limit"],
                 seed=rec["seed"], noise=rec.get("noise"), progress=False)
    assert r["n_samples"] == rec["n_samples"]
    assert abs(r["accuracy"] - rec["accuracy"]) <= TOLERANCE[kind], (
        f"{name} {mode}: {r['accuracy']:.4f} now, {rec['accuracy']:.4f} recorded")


def test_offset_trimmed_checkpoints_meet_the_targets():
    """The issue's targets, on the recorded accuracies of the checkpoints trained for an
    offset-trimmed chip (docs/golden.md "Offset trim"): >= 95 % (digits test split) and
    >= 92 % (real N-MNIST hold-out) in fitted mode, and the chip within 2 points of it."""
    trimmed = [n for n in SHIPPED if json.loads((shipped_dir() / n / "model.json")
                                                 .read_text())["arch"].get("offset_trim")]
    assert {json.loads((shipped_dir() / n / "model.json").read_text())["train"]["dataset"]
            for n in trimmed} == {"default", "nmnist"}, trimmed
    for name in trimmed:
        folder = shipped_dir() / name
        kind = json.loads((folder / "model.json").read_text())["train"]["dataset"]
        rec = json.loads((folder / REGRESSION).read_text())["entries"]
        fitted, chip = rec["fitted"]["accuracy"], rec["chip"]["accuracy"]
        assert fitted >= TARGET[kind] and abs(chip - fitted) <= 0.02 + 1e-9, (name, fitted, chip)
