"""Seeded, reproducible variation: static (per chip instance) and dynamic (per event).

Static (drawn once from ``variation_seed`` when a chip instance is built; paper Sec. 3.2
and 4):

* transistor mismatch, GF22nm FD-SOI "3-sigma variation": Pelgrom
  ``sigma_VT = A_VT / sqrt(W L)`` and ``sigma_beta/beta = A_beta / sqrt(W L)``, Gaussian
  truncated at +-3 sigma;
* "20 % MDWMTJ resistance variation": a factor on R_P and R_AP of every MDWMTJ (and on its
  heavy metal), Gaussian with 3 sigma = 20 %, truncated at +-3 sigma;
* comparator offset (assumption: sigma 1 mV, truncated at 3 sigma).

Dynamic (per event): "10 % Gaussian jitter in the write pulse" (paper Sec. 3.2): the
pulse width is ``t_w (1 + 0.1 z)``, ``z`` standard normal truncated at +-3 (assumption:
the truncation keeps widths positive). ``z`` for event ``k`` is a pure function of
``(seed, stream, k)`` (a counter-based generator: splitmix64 hash -> uniform ->
inverse normal CDF), so a batch of events and the same events applied one by one draw
exactly the same jitter, whatever the batching.

Every named stream draws from ``SeedSequence([seed, crc32(name)])``: adding a stream never
changes the others.
"""

from __future__ import annotations

import zlib

import numpy as np
from scipy.special import ndtri

from analog_models._checks import check_seed

#: Jitter factors are integers in units of 2**-JITTER_BITS (exact integer accumulation).
JITTER_BITS = 16
JITTER_ONE = 1 << JITTER_BITS

_U64 = np.uint64
_GOLDEN = _U64(0x9E3779B97F4A7C15)
_M1 = _U64(0xBF58476D1CE4E5B9)
_M2 = _U64(0x94D049BB133111EB)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finalizer on a uint64 array (wrapping arithmetic)."""
    z = x + _GOLDEN
    z = (z ^ (z >> _U64(30))) * _M1
    z = (z ^ (z >> _U64(27))) * _M2
    return z ^ (z >> _U64(31))


def stream_key(seed: int, stream: str) -> np.uint64:
    """A 64-bit key for the named stream of ``seed`` (seed: int >= 0)."""
    check_seed(seed)
    s = np.array([seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64)
    c = np.array([zlib.crc32(stream.encode())], dtype=np.uint64)
    return _splitmix64(_splitmix64(s) ^ c)[0]


def counter_normal(key: np.uint64, index: np.ndarray, n_sigma: float = 3.0) -> np.ndarray:
    """Standard normal draws, one per ``index`` (int64 array >= 0), truncated at +-n_sigma.

    A pure function of ``(key, index)``: same index, same value, in any batch.
    """
    idx = np.asarray(index, dtype=np.int64).astype(np.uint64)
    h = _splitmix64(_splitmix64(idx ^ key))
    u = ((h >> _U64(11)).astype(np.float64) + 0.5) * (1.0 / 9007199254740992.0)
    return np.clip(ndtri(u), -n_sigma, n_sigma)


def jitter_ticks(key: np.uint64, index: np.ndarray, sigma: float) -> np.ndarray:
    """Pulse-width factors ``1 + sigma z`` as int64 in units of 2**-16, one per ``index``.

    ``sigma = 0`` gives exactly ``2**16`` (no jitter). Always >= 0.
    """
    idx = np.asarray(index, dtype=np.int64)
    if sigma == 0:
        return np.full(idx.shape, JITTER_ONE, dtype=np.int64)
    z = counter_normal(key, idx)
    return np.maximum(np.rint((1.0 + sigma * z) * JITTER_ONE), 0).astype(np.int64)


def truncated_normal(rng: np.random.Generator, shape: tuple[int, ...],
                     n_sigma: float = 3.0) -> np.ndarray:
    """Standard normal samples of ``shape`` truncated at +-``n_sigma`` (resampled, not clipped)."""
    z = rng.standard_normal(shape)
    bad = np.abs(z) > n_sigma
    while np.any(bad):
        z[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(z) > n_sigma
    return z


def stream_rng(seed: int, stream: str) -> np.random.Generator:
    """A numpy Generator for the named static stream of ``seed``."""
    check_seed(seed)
    return np.random.default_rng(np.random.SeedSequence([int(seed), zlib.crc32(stream.encode())]))


def resistance_factor(seed: int, stream: str, shape: tuple[int, ...], var_3sigma: float,
                      enabled: bool = True) -> np.ndarray:
    """MDWMTJ resistance factors ``1 + (var_3sigma/3) z``, z truncated normal; ones if disabled."""
    if not enabled:
        return np.ones(shape)
    return 1.0 + (var_3sigma / 3.0) * truncated_normal(stream_rng(seed, stream), shape, 3.0)


def transistor_mismatch(seed: int, stream: str, shape: tuple[int, ...], width: np.ndarray,
                        length: float, a_vt: float, a_beta: float, n_sigma: float = 3.0,
                        enabled: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Pelgrom mismatch for transistors of ``width`` (m, broadcastable to ``shape``).

    Returns ``(dvt, beta_factor)``: threshold shift (V) and current-factor multiplier,
    each of ``shape``; zeros and ones if disabled.
    """
    if not enabled:
        return np.zeros(shape), np.ones(shape)
    rng = stream_rng(seed, stream)
    area = np.broadcast_to(np.asarray(width, dtype=np.float64), shape) * length
    z_vt = truncated_normal(rng, shape, n_sigma)
    z_b = truncated_normal(rng, shape, n_sigma)
    return a_vt / np.sqrt(area) * z_vt, 1.0 + a_beta / np.sqrt(area) * z_b
