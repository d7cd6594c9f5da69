"""p2m train / eval / export: what a user types, what they read, and clear errors."""

import json
import shutil

import pytest

from analog_models.chip_config import ChipConfig
from p2m.cli import main


def test_eval_json_has_the_documented_fields(tiny_checkpoint, capsys):
    assert main(["eval", str(tiny_checkpoint), "--limit", "12", "--json", "--threads", "1"]) == 0
    r = json.loads(capsys.readouterr().out)
    for key in ("accuracy", "n_samples", "bandwidth", "energy_backend_norm"):
        assert key in r
    assert r["n_samples"] == 12 and 0 <= r["accuracy"] <= 1 and r["bandwidth"] >= 0
    assert r["mode"] == "fitted" and r["noise"] == pytest.approx(0.1)  # the trained noise
    assert 0 < r["energy_backend_norm"] < 1


def test_eval_text_prints_the_assumptions(tiny_checkpoint, capsys):
    assert main(["eval", str(tiny_checkpoint), "--limit", "4", "--mode", "ideal"]) == 0
    out = capsys.readouterr().out
    assert "accuracy" in out and "Horowitz" in out and "bandwidth" in out


def test_export_then_chip_mode(tiny_checkpoint, tmp_path, capsys):
    chip = tmp_path / "chip.json"
    assert main(["export", str(tiny_checkpoint), "--out", str(chip), "--variation-seed",
                 "3"]) == 0
    cfg = ChipConfig.load(chip)
    assert cfg.geometry.channels == 8 and cfg.weight_config == "cmos+x"
    assert cfg.window_us == 32_000 and cfg.variation_seed == 3
    capsys.readouterr()
    assert main(["eval", str(tiny_checkpoint), "--mode", "chip", "--chip", str(chip),
                 "--limit", "3", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["mode"] == "chip" and r["chip"]["variation_seed"] == 3
    ag = r["agreement"]
    assert 0 <= ag["neuron_windows_equal"] <= 1 and 0 <= ag["class_agreement"] <= 1


def test_chip_configuration_of_another_geometry(tiny_checkpoint, tmp_path, capsys):
    chip = tmp_path / "chip.json"
    main(["export", str(tiny_checkpoint), "--out", str(chip)])
    d = json.loads(chip.read_text())
    d["geometry"]["channels"] = 4
    for k in ("weight_sign", "weight_codes", "transistor_codes"):
        d[k] = d[k][:4]
    d["threshold_codes"] = d["threshold_codes"][:4]
    chip.write_text(json.dumps(d))
    capsys.readouterr()
    assert main(["eval", str(tiny_checkpoint), "--mode", "chip", "--chip", str(chip),
                 "--limit", "2"]) == 2
    err = capsys.readouterr().err
    assert str(chip) in err and "geometry.channels" in err


def test_dataset_folder_in_no_known_layout(tiny_checkpoint, tmp_path, capsys):
    ck = tmp_path / "nm"
    shutil.copytree(tiny_checkpoint, ck)
    meta = json.loads((ck / "model.json").read_text())
    meta["train"]["dataset"] = "nmnist"
    (ck / "model.json").write_text(json.dumps(meta))
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["eval", str(ck), "--data", str(empty), "--limit", "2"]) == 2
    err = capsys.readouterr().err
    assert str(empty) in err and "docs/events.md" in err


def test_checkpoint_of_another_architecture(tiny_checkpoint, tmp_path, capsys):
    ck = tmp_path / "other"
    shutil.copytree(tiny_checkpoint, ck)
    meta = json.loads((ck / "model.json").read_text())
    meta["arch"]["hidden"] = 32
    (ck / "model.json").write_text(json.dumps(meta))
    assert main(["eval", str(ck), "--limit", "2"]) == 2
    err = capsys.readouterr().err
    assert "model.safetensors" in err and "fc1" in err


def test_missing_checkpoint_names_the_shipped_ones(capsys):
    assert main(["eval", "no-such-checkpoint"]) == 2
    assert "no such checkpoint" in capsys.readouterr().err


def test_bad_arguments(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--out", "x", "--noise", "150%"])
    assert "must lie in [0, 1]" in capsys.readouterr().err


def test_chip_mode_with_the_offset_trim_follows_the_nominal_model(tiny_checkpoint, capsys):
    """--offset-trim: the exported chip with its comparators trimmed at rest; it agrees with
    the nominal fitted model on more neuron-windows than the chip as fabricated."""
    eq = {}
    for flag in ("--offset-trim", "--no-offset-trim"):
        capsys.readouterr()
        assert main(["eval", str(tiny_checkpoint), "--mode", "chip", flag, "--limit", "4",
                     "--json", "--threads", "1"]) == 0
        r = json.loads(capsys.readouterr().out)
        assert r["chip"]["offset_trim"] is (flag == "--offset-trim")
        eq[flag] = r["agreement"]["neuron_windows_equal"]
    print(eq)
    assert eq["--offset-trim"] > eq["--no-offset-trim"] and eq["--offset-trim"] > 0.95, eq
