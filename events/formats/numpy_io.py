""".npy / .npz event files.

* ``.npy``: a structured array with fields x, y, t, p, or tonic's DVS Gesture
  ``(N, 4)`` float array ``[x, y, p, t_ms]``;
* ``.npz``: arrays ``x, y, t, p`` (SpikingJelly's ``events_np`` and this module's
  writer, which adds ``sensor_size``).

Without a stored or given sensor size, it is inferred from the largest coordinates
(``info['sensor_size_inferred']``).
"""

from __future__ import annotations

import io

import numpy as np

from events.stream import EVENT_DTYPE, EventFormatError, EventStream, _finalize


def _infer_size(path, x, y, sensor_size, info):
    if sensor_size is not None:
        return sensor_size
    if len(x) == 0:
        raise EventFormatError(path, "empty event array without a sensor size; pass sensor_size=")
    info["sensor_size_inferred"] = True
    return (int(np.max(y)) + 1, int(np.max(x)) + 1)


def _int_column(path, name, a):
    a = np.asarray(a)
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
            raise EventFormatError(path, f"field {name!r} has non-integer values")
        return a.astype(np.int64)
    if a.dtype.kind == "b":
        return a.astype(np.int64)
    if a.dtype.kind not in "iu":
        raise EventFormatError(path, f"field {name!r} has dtype {a.dtype}, not numeric")
    return a.astype(np.int64)


def _read_npy(path, data: bytes, sensor_size, **policy) -> EventStream:
    try:
        arr = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as exc:  # numpy raises many types for a corrupt .npy
        raise EventFormatError(path, f"not a readable .npy array: {exc}", offset=0) from None
    info = {}
    if arr.dtype.names and any(arr.dtype[k].shape for k in arr.dtype.names):
        raise EventFormatError(path, "structured array with sub-array fields")
    if arr.dtype.names:
        missing = {"x", "y", "t", "p"} - set(arr.dtype.names)
        if missing:
            raise EventFormatError(path, f"structured array lacks fields {sorted(missing)}")
        x, y, t, p = (_int_column(path, k, arr[k]) for k in "xytp")
        if arr.ndim != 1:
            raise EventFormatError(path, f"structured array must be 1-D, got shape {arr.shape}")
    elif arr.ndim == 2 and arr.shape[1] == 4:
        # tonic's DVSGesture .npy: columns x, y, p, t in milliseconds (float)
        x = _int_column(path, "x", arr[:, 0])
        y = _int_column(path, "y", arr[:, 1])
        p = _int_column(path, "p", arr[:, 2])
        tm = np.asarray(arr[:, 3], dtype=np.float64)
        if not np.all(np.isfinite(tm)):
            raise EventFormatError(path, "non-finite timestamps")
        t = np.rint(tm * 1000.0).astype(np.int64)
        info["layout"] = "tonic_dvsgesture_xypt_ms"
    else:
        raise EventFormatError(path, f"expected a structured x/y/t/p array or an (N, 4) "
                               f"[x, y, p, t_ms] array, got dtype {arr.dtype} shape {arr.shape}")
    sensor_size = _infer_size(path, x, y, sensor_size, info)
    return _finalize(path, "npy", x, y, t, p, sensor_size, info, **policy)


def _read_npz(path, data: bytes, sensor_size, **policy) -> EventStream:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            keys = set(z.files)
            missing = {"x", "y", "t", "p"} - keys
            if missing:
                raise EventFormatError(path, f".npz lacks arrays {sorted(missing)} "
                                       f"(has {sorted(keys)})")
            cols = {k: z[k] for k in "xytp"}
            stored = z["sensor_size"] if "sensor_size" in keys else None
    except EventFormatError:
        raise
    except Exception as exc:  # zipfile/zlib/numpy raise many types for a corrupt .npz
        raise EventFormatError(path, f"not a readable .npz archive: {exc}", offset=0) from None
    lens = {k: np.asarray(v).shape for k, v in cols.items()}
    if len({s for s in lens.values()}) != 1 or len(next(iter(lens.values()))) != 1:
        raise EventFormatError(path, f"x, y, t, p must be 1-D arrays of one length, got {lens}")
    x, y, t, p = (_int_column(path, k, cols[k]) for k in "xytp")
    info = {}
    if sensor_size is None and stored is not None:
        s = np.asarray(stored).ravel()
        if s.size != 2 or s.dtype.kind not in "iu":
            raise EventFormatError(path, f"sensor_size entry must be two integers, got {stored!r}")
        sensor_size = (int(s[0]), int(s[1]))
    sensor_size = _infer_size(path, x, y, sensor_size, info)
    return _finalize(path, "npz", x, y, t, p, sensor_size, info, **policy)


def write_npz(path, events, sensor_size, *, compressed: bool = True) -> None:
    """Write ``events`` as ``.npz`` with arrays x, y, t, p (SpikingJelly's keys) and
    ``sensor_size`` (H, W)."""
    ev = np.asarray(events)
    save = np.savez_compressed if compressed else np.savez
    with open(path, "wb") as f:
        save(f, x=ev["x"], y=ev["y"], t=ev["t"], p=ev["p"],
             sensor_size=np.asarray(sensor_size, dtype=np.int64))


def write_npy(path, events) -> None:
    """Write ``events`` as a structured ``.npy`` (fields x, y, t, p)."""
    with open(path, "wb") as f:
        np.save(f, np.asarray(events, dtype=EVENT_DTYPE), allow_pickle=False)
