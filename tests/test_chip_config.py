"""The chip configuration schema: round trip, defaults, and errors that name the field."""

import json

import numpy as np
import pytest

from analog_models.chip_config import ChipConfig, ChipConfigError, Geometry


def _random_config(seed: int = 0) -> ChipConfig:
    rng = np.random.default_rng(seed)
    g = Geometry()
    return ChipConfig(
        geometry=g,
        weight_sign=rng.integers(-1, 2, g.weight_shape),
        weight_codes=rng.integers(0, 16, g.weight_shape),
        transistor_codes=rng.integers(0, 16, g.weight_shape),
        threshold_codes=rng.integers(0, 64, (g.channels,)),
        window_us=5000,
        variation_seed=42,
    )


def test_geometry_defaults_match_paper():
    g = Geometry()
    assert (g.out_height, g.out_width) == (16, 16)
    assert g.weight_shape == (32, 2, 3, 3)


def test_padding_geometry_and_file():
    """DVS128 with padding 1: 64 x 64 neurons (the RTL's DVS128 build); without padding 63;
    a configuration without padding writes no such field (older benches read it)."""
    assert (Geometry(128, 128).out_height, Geometry(128, 128, padding=1).out_width) == (63, 64)
    assert "padding" not in _random_config().to_dict()["geometry"]
    d = _random_config().to_dict()
    d["geometry"]["padding"] = 1
    back = ChipConfig.from_dict(json.loads(json.dumps(d)))
    assert back.geometry.padding == 1 and back.to_dict() == d
    for bad in (3, -1, 1.5, True):
        d["geometry"]["padding"] = bad
        with pytest.raises(ChipConfigError, match="geometry.padding"):
            ChipConfig.from_dict(d)


def test_round_trip(tmp_path):
    cfg = _random_config()
    path = cfg.save(tmp_path / "chip.json")
    back = ChipConfig.load(path)
    assert back.to_dict() == cfg.to_dict()
    np.testing.assert_array_equal(back.signed_weight_codes, cfg.signed_weight_codes)


@pytest.mark.parametrize(
    "field,value,match",
    [
        ("window_us", 0, "window_us"),
        ("weight_config", "memristor", "weight_config"),
        ("threshold_codes", [1] * 31, "threshold_codes"),
        ("version", 2, "version"),
        ("bogus", 1, "bogus"),
    ],
)
def test_bad_field_is_named(tmp_path, field, value, match):
    d = _random_config().to_dict()
    d[field] = value
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(d))
    with pytest.raises(ChipConfigError, match=match):
        ChipConfig.load(p)


def test_code_out_of_range_names_index():
    cfg = _random_config().to_dict()
    cfg["weight_codes"][3][1][2][0] = 16
    with pytest.raises(ChipConfigError, match=r"weight_codes\[3, 1, 2, 0\]"):
        ChipConfig.from_dict(cfg)


@pytest.mark.parametrize("kind,reason", [("dir", "cannot read: Is a directory"),
                                         ("binary", "not a text (UTF-8) file"),
                                         ("missing", "cannot read: No such file")])
def test_unreadable_file_names_the_config(tmp_path, kind, reason):
    if kind == "dir":
        p = tmp_path / "cfgdir"
        p.mkdir()
    elif kind == "binary":
        p = tmp_path / "chip.json"
        p.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x01")
    else:
        p = tmp_path / "absent.json"
    with pytest.raises(ChipConfigError) as exc:
        ChipConfig.load(p)
    assert str(exc.value).startswith(f"{p}: ") and reason in str(exc.value)


def test_unknown_device_preset_fails_validation(tmp_path):
    d = _random_config().to_dict()
    d["device_preset"] = "nosuch"
    p = tmp_path / "chip.json"
    p.write_text(json.dumps(d))
    with pytest.raises(ChipConfigError) as exc:
        ChipConfig.load(p)
    msg = str(exc.value)
    assert msg.startswith(f"{p}: device_preset: ") and "'nosuch'" in msg
    assert "paper2024" in msg and "high_tmr" in msg
    with pytest.raises(ChipConfigError, match="device_preset"):
        ChipConfig(device_preset="nosuch")
    with pytest.raises(ChipConfigError, match="device_preset"):
        ChipConfig(device_preset=3)


def test_every_known_preset_validates():
    from analog_models.presets import PRESETS

    for name in PRESETS:
        assert ChipConfig(device_preset=name).device_preset == name
