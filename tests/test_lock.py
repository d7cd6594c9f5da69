"""The reproducible install: ``requirements/lock.txt`` pins what ``make setup`` installs.

pyproject.toml keeps ranges (for installs into one's own environment); the lock pins one
exact version of everything in the venv, so CI, a developer and a new user run the same
numpy, scipy and torch (issue 7). These tests keep the two consistent and, inside the
venv that ``make setup`` built, check that the venv is what the lock says.
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

tomllib = pytest.importorskip("tomllib", reason="Python < 3.11: the lock is made for 3.11")

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "requirements" / "lock.txt"


def _lock() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for n, line in enumerate(LOCK.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, ver = line.partition("==")
        assert sep and ver, f"{LOCK}:{n}: not 'name==version': {line!r}"
        key = canonicalize_name(name)
        assert key not in pins, f"{LOCK}:{n}: {name} pinned twice"
        pins[key] = Version(ver)
    return pins


def _project_requirements() -> list[Requirement]:
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for r in meta["dependencies"]]
    for extra in ("test", "lint", "fpga"):  # what `make setup` installs
        reqs += [Requirement(r) for r in meta["optional-dependencies"][extra]]
    return reqs


def test_every_dependency_is_pinned_within_its_range():
    pins = _lock()
    for req in _project_requirements():
        key = canonicalize_name(req.name)
        assert key in pins, f"{req.name} (pyproject.toml) is not pinned in {LOCK.name}: make lock"
        assert req.specifier.contains(pins[key], prereleases=True), (
            f"{req.name}: the pin {pins[key]} is outside pyproject's range {req.specifier}")


def test_torch_pin_matches_the_setup_default():
    makefile = (REPO / "Makefile").read_text()
    spec = next(line.split("?=")[1].strip() for line in makefile.splitlines()
                if line.startswith("TORCH_SPEC"))
    assert Requirement(spec).specifier.contains(_lock()["torch"]), (spec, _lock()["torch"])


def test_the_venv_is_what_the_lock_says():
    if Path(sys.prefix).resolve() != (REPO / ".venv").resolve():
        pytest.skip(f"not the venv `make setup` builds ({REPO / '.venv'}); "
                    f"this interpreter is {sys.prefix}")
    wrong = []
    for key, want in sorted(_lock().items()):
        try:
            have = Version(metadata.version(key))
        except metadata.PackageNotFoundError:
            wrong.append(f"{key}: not installed (lock {want})")
            continue
        if Version(have.public) != want:  # the local label (+cpu) does not count
            wrong.append(f"{key}: {have} installed, lock {want}")
    assert not wrong, "the venv differs from requirements/lock.txt (rm -rf .venv && make " \
                      "setup, or make lock after a deliberate change):\n" + "\n".join(wrong)


def test_spikingjelly_pin_matches_the_setup_spec():
    """SpikingJelly is installed by make setup with --no-deps (not a pyproject dependency:
    its requirements would replace torch); the lock pins the same version."""
    makefile = (REPO / "Makefile").read_text()
    spec = next(line.split("?=")[1].strip() for line in makefile.splitlines()
                if line.startswith("SPIKINGJELLY_SPEC"))
    assert Requirement(spec).specifier.contains(_lock()["spikingjelly"]), spec
    from golden.snn import SPIKINGJELLY_VERSION

    assert _lock()["spikingjelly"] == Version(SPIKINGJELLY_VERSION)
