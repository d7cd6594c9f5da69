"""golden.train and golden.checkpoint: a short run learns, an interrupted run resumes to
the same weights, checkpoints load safely and say clearly what does not fit."""

import json

import pytest
import torch

from golden import checkpoint as ck
from golden.checkpoint import CheckpointError, load_net
from golden.train import TrainConfig, train

TINY = {"widths": [4, 8, 8], "hidden": 16, "p2m_channels": 8}


def tiny(**kw):
    base = dict(dataset="default", epochs=3, batch_size=16, limit=64, noise=0.1,
                noise_warmup=0.0, quantize_from=0.67, lr=5e-3, arch=dict(TINY))
    base.update(kw)
    return TrainConfig(**base)


@pytest.fixture(scope="module")
def run3(tmp_path_factory):
    out = tmp_path_factory.mktemp("run3")
    meta = train(tiny(), out, progress=False, threads=1, log=lambda *a: None)
    return out, meta


def test_short_run_loss_falls_and_writes_a_checkpoint(run3):
    out, meta = run3
    hist = meta["metrics"]["history"]
    assert [h["epoch"] for h in hist] == [1, 2, 3]
    assert hist[-1]["train_loss"] < hist[0]["train_loss"]
    assert [h["quantized"] for h in hist] == [False, False, True]
    assert meta["metrics"]["best"]["epoch"] == 3  # the only quantized epoch
    assert meta["train"]["T"] == 10 and meta["train"]["window_us"] == 32_000
    assert meta["command"].startswith("p2m train")
    net, meta2 = load_net(out)
    assert net.cfg.p2m_channels == 8 and meta2["arch"] == meta["arch"]


def test_resume_gives_the_run_that_was_not_interrupted(run3, tmp_path):
    """Epoch 1..2, stop, then the same command to 3 epochs: every epoch seeds its own
    streams, so the resumed weights are the uninterrupted run's."""
    out, _ = run3
    part = tmp_path / "part"
    train(tiny(epochs=3), part, progress=False, threads=1, log=lambda *a: None,
          _stop_after=2)
    state = json.loads((part / "train_state.json").read_text())
    assert state["epoch"] == 1  # epochs 0 and 1 done
    logs = []
    train(tiny(epochs=3), part, progress=False, threads=1, log=logs.append)
    assert any("resuming" in m for m in logs)
    a, _ = ck.load(out, ck.TRAIN_STATE)
    b, _ = ck.load(part, ck.TRAIN_STATE)
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6, msg=k)


def test_resume_refuses_other_settings(run3):
    out, _ = run3
    with pytest.raises(ValueError, match="'noise'"):
        train(tiny(noise=0.2), out, progress=False, threads=1, log=lambda *a: None)


def test_checkpoint_errors_name_the_file_and_field(run3, tmp_path):
    out, _ = run3
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in ("model.json", "model.safetensors"):
        (bad / f).write_bytes((out / f).read_bytes())
    meta = json.loads((bad / "model.json").read_text())
    # another architecture: the JSON says 16 channels, the tensors have 8
    meta["arch"]["p2m_channels"] = 16
    (bad / "model.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match=r"model.safetensors.*p2m.weight.*shape"):
        load_net(bad)
    meta["arch"]["p2m_channels"] = 8
    meta["arch"]["colour"] = "red"
    (bad / "model.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match=r"model.json.*arch.colour: unknown field"):
        load_net(bad)
    meta["schema"] = "something-else"
    (bad / "model.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="schema"):
        load_net(bad)
    (bad / "model.json").write_text((out / "model.json").read_text())
    (bad / "model.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(CheckpointError, match="tensors_sha256"):
        load_net(bad)
    with pytest.raises(CheckpointError, match="missing"):
        load_net(tmp_path / "nowhere")


def test_checkpoint_is_not_a_pickle(run3):
    """safetensors: a header of JSON and raw tensor bytes; nothing executes on load."""
    out, _ = run3
    blob = (out / "model.safetensors").read_bytes()
    n = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + n])
    assert "p2m.weight" in header and b"\x80\x04" not in blob[:16]
