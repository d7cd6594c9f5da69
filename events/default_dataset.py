"""The built-in default event dataset: scikit-learn's digits as an N-MNIST emulation.

This is an **emulation**, not a recording. It follows the recipe of N-MNIST (Orchard,
Jayawant, Cohen, Thakor 2015, Front. Neurosci. 9:437): a static digit is shown to an
event camera that makes three saccades along a triangle in about 300 ms, and a DVS
pixel model turns the moving image into ON/OFF events on a 34 x 34 sensor.

Pipeline for sample ``i`` (``sklearn.datasets.load_digits``: 1,797 images 8x8, 0..16):

1. the 8x8 image is scaled to [0, 1], upscaled (bilinear) to ``digit_px`` = 20 pixels
   and centred in a ``frame_px`` = 28 frame (MNIST's normalization); the scene is
   ``I = background + (1 - background) * image``
   (relative luminance, bright digit on a dark screen as in N-MNIST);
2. the scene moves over the sensor along the saccade triangle
   ``saccade_vertices_px`` (x, y), each leg ``saccade_us`` long with a raised-cosine
   velocity profile; the sensor samples it every ``dt_us`` with bilinear sub-pixel
   interpolation;
3. each pixel keeps a reference log intensity; when ``log I`` moves more than its
   ON threshold ``C_on * (1 + m_on)`` above (OFF: ``C_off * (1 + m_off)`` below) the
   reference, it emits an event at the linearly interpolated crossing time and moves
   the reference by one threshold; a pixel cannot fire again within
   ``refractory_us`` (crossings it misses fire later); the mismatch ``m`` is a
   per-pixel Gaussian fixed per sensor (per seed); the initial reference levels are
   random per sample (the pixels' unknown reset state);
4. background noise: Poisson events at ``noise_rate_hz`` per pixel, random polarity;
   timestamps get Gaussian latency jitter ``jitter_us`` and are sorted.

Everything random comes from ``numpy.random.default_rng`` seeded with ``(seed, ...)``
(sensor mismatch from ``[seed, 0]``, sample ``i`` from ``[seed, 1, i]``), so a sample
does not depend on which other samples are generated with it.

The full dataset is generated on first use (about 10 s for 1,797 samples on one
core) and cached under ``$P2M_CACHE_DIR`` (default ``~/.cache/p2m-bench``);
:func:`default_samples` makes the first N samples without touching the cache.
``docs/events.md`` compares its statistics with the real N-MNIST subset.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass

import numpy as np

from events.datasets import EventDataset, Sample, train_val_split
from events.framing import cache_dir
from events.stream import EVENT_DTYPE, NMNIST_SENSOR, EventStream, make_events

SENSOR_SIZE = NMNIST_SENSOR  # the N-MNIST sensor, pixels (H, W)
_GEN_VERSION = 1


@dataclass(frozen=True)
class DVSEmulationParams:
    """Parameters of the digits-to-events emulation (units in the names).

    Defaults: the saccade geometry and timing follow N-MNIST (three ~100 ms saccades,
    a 28-pixel digit on a 34-pixel sensor, Orchard et al. 2015); the mismatch is the
    2.1 % contrast-threshold FPN of the DVS128 (Lichtsteiner, Posch, Delbruck 2008,
    IEEE JSSC 43(2)); the contrast thresholds, refractory period, noise rate and
    jitter are assumptions, tuned so that events per sample and ON fraction land near
    the real N-MNIST subset (docs/events.md)."""

    digit_px: int = 20              # MNIST: digits size-normalized to 20x20 (LeCun 1998)
    frame_px: int = 28              # ... and centred in a 28x28 frame
    background: float = 0.1
    saccade_vertices_px: tuple = ((0.0, 6.0), (3.0, 0.0), (6.0, 6.0))
    saccade_us: int = 100_000
    dt_us: int = 1000
    contrast_on: float = 0.34       # log-intensity ON threshold (assumption, tuned)
    contrast_off: float = 0.34      # log-intensity OFF threshold (assumption, tuned)
    mismatch_sigma: float = 0.021   # relative threshold mismatch (Lichtsteiner 2008)
    refractory_us: int = 500        # assumption
    noise_rate_hz: float = 0.5      # background events per pixel per second (assumption)
    jitter_us: float = 50.0         # latency jitter, Gaussian sigma (assumption)
    max_events_per_step: int = 4

    def __post_init__(self):
        for name in ("digit_px", "saccade_us", "dt_us", "max_events_per_step"):
            if int(getattr(self, name)) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("contrast_on", "contrast_off"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if not 0.0 < self.background < 1.0:
            raise ValueError(f"background must be in (0, 1), got {self.background!r}")
        for name in ("mismatch_sigma", "refractory_us", "noise_rate_hz", "jitter_us"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if len(self.saccade_vertices_px) != 3:
            raise ValueError("saccade_vertices_px must hold 3 (x, y) vertices")
        if self.digit_px > self.frame_px:
            raise ValueError(f"digit_px ({self.digit_px}) must be <= frame_px ({self.frame_px})")
        span = [v for xy in self.saccade_vertices_px for v in xy]
        if min(span) < 0 or self.frame_px + max(span) > SENSOR_SIZE[0]:
            raise ValueError("saccade_vertices_px must be >= 0 and frame_px plus the saccade "
                             "span must fit the 34-pixel sensor")

    @property
    def duration_us(self) -> int:
        return 3 * int(self.saccade_us)


def _digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.images.astype(np.float32) / 16.0, d.target.astype(np.int64)


def _upscale(images: np.ndarray, size: int) -> np.ndarray:
    """Bilinear upscale (N, 8, 8) -> (N, size, size), pixel-centre aligned."""
    n, h, w = images.shape
    c = (np.arange(size) + 0.5) * (h / size) - 0.5
    c = np.clip(c, 0, h - 1)
    i0 = np.floor(c).astype(int)
    i1 = np.minimum(i0 + 1, h - 1)
    f = (c - i0).astype(np.float32)
    rows = images[:, i0, :] * (1 - f)[None, :, None] + images[:, i1, :] * f[None, :, None]
    out = rows[:, :, i0] * (1 - f)[None, None, :] + rows[:, :, i1] * f[None, None, :]
    return out.astype(np.float32)


def _saccade_path(params: DVSEmulationParams, t_us: np.ndarray) -> np.ndarray:
    """Scene offset (x, y) in pixels at times ``t_us``: the closed triangle, raised-cosine
    velocity per leg. Returns (len(t), 2)."""
    v = np.asarray(params.saccade_vertices_px + (params.saccade_vertices_px[0],), float)
    leg = np.clip(t_us // params.saccade_us, 0, 2).astype(int)
    u = np.clip((t_us - leg * params.saccade_us) / params.saccade_us, 0.0, 1.0)
    e = 0.5 * (1.0 - np.cos(np.pi * u))
    return v[leg] + (v[leg + 1] - v[leg]) * e[:, None]


def _render(padded: np.ndarray, off: int, dx: float, dy: float, H: int, W: int):
    """Scene on the sensor with the digit shifted by (dx, dy) >= 0 pixels (bilinear)."""
    ix, iy = int(np.floor(dx)), int(np.floor(dy))
    fx, fy = np.float32(dx - ix), np.float32(dy - iy)
    a, b = off - iy, off - ix
    p00 = padded[:, a:a + H, b:b + W]
    p10 = padded[:, a - 1:a - 1 + H, b:b + W]
    p01 = padded[:, a:a + H, b - 1:b - 1 + W]
    p11 = padded[:, a - 1:a - 1 + H, b - 1:b - 1 + W]
    return ((1 - fy) * ((1 - fx) * p00 + fx * p01) + fy * ((1 - fx) * p10 + fx * p11))


def generate_events(indices, seed: int = 0, params: DVSEmulationParams | None = None,
                    images=None):
    """Emulate events for the digits at ``indices``.

    Returns (list of EVENT_DTYPE arrays (t in us, from 0), labels int64 (n,))."""
    params = params or DVSEmulationParams()
    all_images, all_labels = _digits() if images is None else images
    indices = np.asarray(indices, dtype=np.int64)
    if indices.size and (indices.min() < 0 or indices.max() >= len(all_labels)):
        raise ValueError(f"indices must be in [0, {len(all_labels)}), got "
                         f"{indices.min()}..{indices.max()}")
    H, W = SENSOR_SIZE
    n = indices.size
    img = _upscale(all_images[indices], params.digit_px)
    off = 8  # padding: the scene may shift by up to 6 px, plus 1 for bilinear
    padded = np.zeros((n, H + 2 * off, W + 2 * off), np.float32)
    m = off + (params.frame_px - params.digit_px) // 2
    padded[:, m:m + params.digit_px, m:m + params.digit_px] = img
    padded = np.log(params.background + (1.0 - params.background) * padded)

    sensor_rng = np.random.default_rng([seed, 0])
    c_on = (params.contrast_on * (1 + params.mismatch_sigma
                                  * sensor_rng.standard_normal((H, W)))).astype(np.float32)
    c_off = (params.contrast_off * (1 + params.mismatch_sigma
                                    * sensor_rng.standard_normal((H, W)))).astype(np.float32)
    c_on = np.maximum(c_on, 1e-3)
    c_off = np.maximum(c_off, 1e-3)
    rngs = [np.random.default_rng([seed, 1, int(i)]) for i in indices]

    dt = params.dt_us
    steps = params.duration_us // dt
    times = np.arange(steps + 1, dtype=np.int64) * dt
    path = _saccade_path(params, times)
    L_prev = _render(padded, off, *path[0], H, W)
    phase = np.stack([r.random((H, W), dtype=np.float32) for r in rngs]) if n else \
        np.zeros((0, H, W), np.float32)
    # random reset state: reference anywhere between one OFF and one ON threshold
    L_ref = L_prev + (phase - 0.5) * (c_on + c_off)[None] * 0.5
    # flat state over (sample, y, x); only pixels past a threshold are processed per step
    Lp = L_prev.reshape(-1)
    Lr = L_ref.reshape(-1).copy()
    con = np.tile(c_on.ravel(), n)
    coff = np.tile(c_off.ravel(), n)
    last = np.full(n * H * W, -10 ** 9, dtype=np.int64)
    refr = int(params.refractory_us)
    out_f, out_t, out_p = [], [], []
    for k in range(1, steps + 1):
        t_prev = int(times[k - 1])
        Ln = _render(padded, off, *path[k], H, W).reshape(-1)
        diff = Ln - Lr
        idx = np.flatnonzero((diff >= con) | (diff <= -coff))
        if idx.size:
            lp, ln, lr = Lp[idx], Ln[idx], Lr[idx]
            co, cf, la = con[idx], coff[idx], last[idx]
            dl = ln - lp
            dl = np.where(np.abs(dl) > 1e-12, dl, np.float32(1e-12))
            for _j in range(params.max_events_per_step):
                d = ln - lr
                on = d >= co
                of = d <= -cf
                level = np.where(on, lr + co, lr - cf)
                frac = np.clip((level - lp) / dl, 0.0, 1.0)
                te = np.maximum(t_prev + np.rint(frac * dt).astype(np.int64), la + refr)
                ok = (on | of) & (te <= t_prev + dt)
                if not ok.any():
                    break
                out_f.append(idx[ok])
                out_t.append(te[ok])
                out_p.append(on[ok].astype(np.uint8))
                lr = np.where(ok & on, lr + co, np.where(ok & of, lr - cf, lr))
                la = np.where(ok, te, la)
            Lr[idx] = lr
            last[idx] = la
        Lp = Ln

    def cat(a, dt_):
        return (np.concatenate(a) if a else np.zeros(0, dt_))
    f = cat(out_f, np.int64)
    s, rem = np.divmod(f, H * W)
    y, x = np.divmod(rem, W)
    t = cat(out_t, np.int64)
    p = cat(out_p, np.uint8)
    order = np.argsort(s, kind="stable")
    s, y, x, t, p = s[order], y[order], x[order], t[order], p[order]
    bounds = np.searchsorted(s, np.arange(n + 1))
    result = []
    dur = params.duration_us
    for j in range(n):
        r = rngs[j]
        a, b = bounds[j], bounds[j + 1]
        tj = t[a:b].astype(np.float64)
        if params.jitter_us > 0:
            tj = tj + r.normal(0.0, params.jitter_us, tj.size)
        k_noise = r.poisson(params.noise_rate_hz * H * W * dur * 1e-6)
        xn = r.integers(0, W, k_noise)
        yn = r.integers(0, H, k_noise)
        tn = r.uniform(0, dur, k_noise)
        pn = r.integers(0, 2, k_noise)
        tt = np.clip(np.rint(np.concatenate([tj, tn])), 0, dur).astype(np.int64)
        ev = make_events(np.concatenate([x[a:b], xn]), np.concatenate([y[a:b], yn]), tt,
                         np.concatenate([p[a:b], pn]))
        result.append(ev[np.argsort(ev["t"], kind="stable")])
    return result, all_labels[indices]


def default_samples(n: int = 8, seed: int = 0, params: DVSEmulationParams | None = None):
    """The first ``n`` samples of the default dataset, generated now (no cache).

    Returns (list of events arrays, labels (n,)); identical to ``DefaultDigits(seed)``'s
    first n samples."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n!r}")
    imgs, labels = _digits()
    if n > len(labels):
        raise ValueError(f"n must be <= {len(labels)}, got {n!r}")
    return generate_events(np.arange(n), seed, params, (imgs, labels))


def _params_key(seed, params: DVSEmulationParams) -> str:
    payload = json.dumps({"seed": seed, "params": asdict(params), "v": _GEN_VERSION},
                         sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def build_default_dataset(seed: int = 0, params: DVSEmulationParams | None = None,
                          *, cache: bool = True, progress: bool = True,
                          batch: int = 256):
    """Generate (or load from the cache) all 1,797 emulated samples.

    Returns (events: EVENT_DTYPE (total,), offsets: int64 (N + 1,), labels: (N,),
    cache path or None)."""
    params = params or DVSEmulationParams()
    path = cache_dir() / f"default_digits_{_params_key(seed, params)}.npz"
    if cache and path.exists():
        with np.load(path) as z:
            return z["events"], z["offsets"], z["labels"], path
    imgs, labels = _digits()
    n = len(labels)
    chunks = []
    it = range(0, n, batch)
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(it, desc="emulating default digits dataset", unit="batch")
    for a in it:
        evs, _ = generate_events(np.arange(a, min(a + batch, n)), seed, params,
                                 (imgs, labels))
        chunks.extend(evs)
    sizes = np.array([c.size for c in chunks], np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    events = np.concatenate(chunks) if chunks else np.zeros(0, EVENT_DTYPE)
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".tmp{os.getpid()}.npz")
        np.savez(tmp, events=events, offsets=offsets, labels=labels)
        os.replace(tmp, path)
        return events, offsets, labels, path
    return events, offsets, labels, None


class DefaultDigits(EventDataset):
    """The built-in emulated dataset (see the module docstring), 34x34, 10 classes.

    ``split``: None (all 1,797), 'train' or 'test' (a seeded, stratified 80/20 split,
    ``split_seed``). Generated on first use and cached."""

    sensor_size = SENSOR_SIZE
    classes = tuple(str(d) for d in range(10))
    layout = "emulation"

    def __init__(self, seed: int = 0, params: DVSEmulationParams | None = None, *,
                 split: str | None = None, split_seed: int = 0, cache: bool = True,
                 progress: bool = True):
        super().__init__()
        if split not in (None, "train", "test"):
            raise ValueError(f"split must be None, 'train' or 'test', got {split!r}")
        self.seed = seed
        self.params = params or DVSEmulationParams()
        self._events, self._offsets, labels, self.cache_path = build_default_dataset(
            seed, self.params, cache=cache, progress=progress)
        idx = np.arange(len(labels))
        if split is not None:
            tr, te = train_val_split(labels, 0.2, split_seed)
            idx = tr if split == "train" else te
        self._index = idx
        self.samples = [Sample(f"default_digits[{i}]", int(labels[i]), int(i)) for i in idx]

    def read(self, i: int) -> EventStream:
        j = self.samples[i].segment
        ev = self._events[self._offsets[j]:self._offsets[j + 1]]
        return EventStream(ev, self.sensor_size, "emulation", self.samples[i].path,
                           {"seed": self.seed, "digit_index": j})

    def cache_key(self) -> str:
        return (f"DefaultDigits|{_params_key(self.seed, self.params)}|"
                f"{','.join(str(s.segment) for s in self.samples)}")


def dataset_statistics(event_arrays) -> dict:
    """Events per sample (mean, std, min, max), ON fraction (mean), duration in ms
    (mean) of a list of event arrays."""
    n = np.array([e.size for e in event_arrays], float)
    on = np.array([e["p"].mean() if e.size else np.nan for e in event_arrays])
    dur = np.array([(e["t"][-1] - e["t"][0]) / 1000.0 if e.size else 0 for e in event_arrays])
    return {"samples": len(event_arrays), "events_mean": float(n.mean()),
            "events_std": float(n.std()), "events_min": int(n.min()),
            "events_max": int(n.max()), "on_fraction_mean": float(np.nanmean(on)),
            "duration_ms_mean": float(dur.mean())}
