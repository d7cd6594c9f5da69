"""Checkpoints: tensors as safetensors (no pickle, nothing executes on load) plus one JSON.

A checkpoint is a folder:

* ``model.safetensors``: the network's state (parameters and buffers, incl. the f1/f2
  curves it was trained with);
* ``model.json``: ``{"schema": "p2m-golden-checkpoint", "version": 1, "arch": {...}
  (:class:`golden.network.NetConfig`), "train": {...} (the hyper-parameters, dataset,
  framing, seed), "metrics": {...}, "command": "p2m train ...", "tensors_sha256": ...}``;
* while training, ``train_state.safetensors`` + ``train_state.json``: the last epoch's
  model and optimizer state, so an interrupted run resumes where it stopped.

Writes are atomic (a temporary file in the same folder, fsync, ``os.replace``), the JSON
last: it carries the SHA-256 of its tensors file, so a crash between the two writes is
detected on load. Loading checks the architecture against the tensors and says, naming
the file and the field, what does not fit.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch

SCHEMA = "p2m-golden-checkpoint"
VERSION = 1
MODEL = "model"
TRAIN_STATE = "train_state"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message names the file and the field."""


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def save(folder: str | Path, name: str, tensors: dict[str, torch.Tensor],
         meta: dict[str, Any]) -> Path:
    """Write ``<folder>/<name>.safetensors`` and ``<folder>/<name>.json`` atomically."""
    from safetensors.torch import save as st_save

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    blob = st_save({k: v.detach().contiguous().cpu() for k, v in tensors.items()})
    _atomic_write(folder / f"{name}.safetensors", blob)
    doc = {"schema": SCHEMA, "version": VERSION, **meta, "tensors_sha256": _sha256(blob)}
    _atomic_write(folder / f"{name}.json", (json.dumps(doc, indent=1, allow_nan=False)
                                            + "\n").encode())
    return folder / f"{name}.json"


def load(folder: str | Path, name: str = MODEL) -> tuple[dict[str, torch.Tensor], dict]:
    """``(tensors, meta)`` of ``<folder>/<name>.*``; :class:`CheckpointError` naming the file
    when a file is missing, unreadable, of another schema, or its tensors do not match."""
    from safetensors import SafetensorError
    from safetensors.torch import load as st_load

    folder = Path(folder)
    if folder.is_file() and folder.suffix in (".json", ".safetensors"):
        folder, name = folder.parent, folder.stem
    jpath, tpath = folder / f"{name}.json", folder / f"{name}.safetensors"
    for p in (jpath, tpath):
        if not p.is_file():
            raise CheckpointError(f"{p}: missing (a checkpoint folder holds {name}.json and "
                                  f"{name}.safetensors)")
    try:
        meta = json.loads(jpath.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{jpath}: not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("schema") != SCHEMA:
        raise CheckpointError(f"{jpath}: schema: must be {SCHEMA!r}, got "
                              f"{meta.get('schema') if isinstance(meta, dict) else meta!r}")
    if meta.get("version") != VERSION:
        raise CheckpointError(f"{jpath}: version: this bench reads {VERSION}, got "
                              f"{meta.get('version')!r}")
    blob = tpath.read_bytes()
    if meta.get("tensors_sha256") != _sha256(blob):
        raise CheckpointError(f"{tpath}: does not match {jpath.name} (tensors_sha256): an "
                              "interrupted write or a file from another checkpoint")
    try:
        tensors = st_load(blob)
    except SafetensorError as exc:
        raise CheckpointError(f"{tpath}: not a safetensors file ({exc})") from None
    return tensors, meta


def check_state(tensors: dict[str, torch.Tensor], model: torch.nn.Module, where: str,
                arch_field: str = "arch") -> None:
    """:class:`CheckpointError` unless ``tensors`` are exactly ``model``'s state (names and
    shapes): a checkpoint of another architecture names the first tensor that differs."""
    want = model.state_dict()
    missing = [k for k in want if k not in tensors]
    extra = [k for k in tensors if k not in want]
    if missing or extra:
        k = (missing or extra)[0]
        what = "missing" if missing else "not in this architecture"
        raise CheckpointError(f"{where}: tensor {k!r} {what} (the checkpoint's {arch_field} "
                              f"and its tensors disagree: another architecture?)")
    for k, v in want.items():
        if tuple(tensors[k].shape) != tuple(v.shape):
            raise CheckpointError(f"{where}: tensor {k!r} has shape {tuple(tensors[k].shape)}, "
                                  f"the architecture in {arch_field} needs {tuple(v.shape)}")


def optimizer_tensors(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """An optimizer's state as flat tensors (``opt.<param>.<key>``) plus JSON param groups."""
    sd = opt.state_dict()
    tensors = {}
    for idx, st in sd["state"].items():
        for key, val in st.items():
            t = val if torch.is_tensor(val) else torch.tensor(val)
            tensors[f"opt.{idx}.{key}"] = t
    return tensors, {"param_groups": sd["param_groups"]}


def load_optimizer(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor],
                   groups: dict) -> None:
    """Restore :func:`optimizer_tensors` into ``opt``."""
    state: dict[int, dict[str, torch.Tensor]] = {}
    for k, v in tensors.items():
        if not k.startswith("opt."):
            continue
        _, idx, key = k.split(".", 2)
        state.setdefault(int(idx), {})[key] = v
    opt.load_state_dict({"state": state, "param_groups": groups["param_groups"]})


def load_net(path: str | Path, name: str = MODEL):
    """``(P2MNet, meta)`` from a checkpoint folder (or its ``model.json``), architecture
    checked against the tensors, in eval mode."""
    from golden.network import NetConfig, P2MNet

    tensors, meta = load(path, name)
    folder = Path(path) if Path(path).is_dir() else Path(path).parent
    where = str(folder / f"{name}.json")
    try:
        cfg = NetConfig.from_dict(meta.get("arch"), "arch")
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{where}: {exc}") from None
    net = P2MNet(cfg)
    check_state(tensors, net, str(folder / f"{name}.safetensors"), f"{name}.json arch")
    net.load_state_dict(tensors)
    net.eval()
    return net, meta
