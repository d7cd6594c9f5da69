"""The accumulator array of one chip instance, built from a :class:`ChipConfig`.

Per output neuron ``(c, oy, ox)`` (shape ``(C, OH, OW)``): a positive and a negative
accumulator MDWMTJ, the neuron's own weight cells ``(P, K, K)`` (each physically separate,
so each with its own mismatch), a threshold divider of two programmable MDWMTJs and a
comparator (paper Sec. 3, Fig. 2b). An event at pixel ``(x, y)`` of polarity ``p`` fires
one write pulse (width ``t_w (1 + 0.1 z_k)``, one jitter draw per event ``k``) through the
weight cell ``(p, y + pad - S oy, x + pad - S ox)`` of every neuron whose K x K stride-S
window covers the pixel (``pad``: the geometry's padding, 0 by default); the cell's sign
(``weight_sign``) routes the current to the positive or the negative accumulator.

Exactness of the batch path: per-pulse displacements are integers (ticks of
``l_fl / 2**40``): ``a[cell] * j_k`` with ``a`` the cell's displacement per unit pulse
width in ticks/2**16 and ``j_k`` the jittered width in units of 2**-16. A batch sums
``j_k`` per pixel (``np.bincount``), multiplies by ``a`` (a stride-2 convolution) and
clamps at the track end once; as all increments are non-negative integers, this equals
applying the events one by one (:meth:`AccumulatorArray.apply_events_reference`),
bit for bit.

Design decisions (assumptions, see ``docs/analog_models.md``):

* the threshold divider (``V_read`` - top device - ``V_th`` - bottom device - ground): the
  TOP device is programmed with ``threshold_code`` set pulses and the bottom one with
  ``2**threshold_bits - 1 - threshold_code`` (as ``tb/program_chip.py`` does), so ``V_th``
  FALLS as the code rises (code 0: the highest threshold); one programming command writes
  that device in every neuron of the channel;
* weight cells with ``weight_sign == 0`` have no device and are never programmed;
* a weight programming command (index ``((c P + p) K + ky) K + kx``) writes that weight
  cell in every neuron of channel ``c``; programming pulses have the same 10 % jitter,
  drawn per (device, pulse number since the device's last reset), so a chip programmed
  pulse by pulse equals the chip built from the file;
* the event jitter is a pure function of ``(variation_seed, index)``, where ``index`` is
  the event's key: given by the caller (``apply_events(..., index=...)``, e.g. the event's
  index within its sample, as the golden model's ``chip`` mode and the co-simulation bridge
  pass it: same events, same jitter, whatever the batching and order) or, when omitted,
  the running count of events this instance has applied (``event_count``);
* pulse widths act physically: a reset or programming pulse moves a wall by
  ``v(I) * width`` for the width the RTL produced (``width_s``; None: the preset's nominal
  width, the RTL default at 100 MHz, which does its job with the margin
  ``DevicePreset.pulse_requirements`` states);
* the comparator latch (:meth:`AccumulatorArray.sample`) decides ``V_pre > V_th + offset``
  exactly without solving the divider (:class:`analog_models.readout.DividerComparator`),
  re-evaluating the wall profile only of accumulators that moved since the last latch.
"""

from __future__ import annotations

import numpy as np

from analog_models._checks import as_float_array, as_int_array, broadcast
from analog_models.chip_config import ChipConfig
from analog_models.mdwmtj import TRACK_BITS, TRACK_TICKS, MDWMTJArray, wall_profile_mean_ticks
from analog_models.presets import get_preset
from analog_models.readout import DividerComparator, divider_voltage
from analog_models.variation import (
    JITTER_BITS,
    jitter_ticks,
    resistance_factor,
    stream_key,
    stream_rng,
    truncated_normal,
)
from analog_models.weight_cells import CellVariation, WeightCellModel

#: ``a`` is in units of 2**(TRACK_BITS - JITTER_BITS) ticks per nominal pulse.
_A_SHIFT = TRACK_BITS - JITTER_BITS
TARGET_WEIGHT, TARGET_TH_TOP, TARGET_TH_BOTTOM = 0, 1, 2
#: Set pulses computed at once by program_from_config (bounds its memory on large chips).
_PROG_CHUNK = 1 << 21


class AccumulatorArray:
    """One chip instance: accumulators, weight cells, threshold dividers, comparators."""

    def __init__(self, config: ChipConfig, programmed: bool = True) -> None:
        if not isinstance(config, ChipConfig):
            raise ValueError(f"config: must be a ChipConfig, got {type(config).__name__}")
        config.validate()
        self.config = config
        self.preset = get_preset(config.device_preset)
        g = config.geometry
        self.geometry = g
        self.C, self.P, self.K, self.S = g.channels, g.polarities, g.kernel, g.stride
        # the grid of pixel positions the windows span: the sensor plus ``padding`` rows and
        # columns of no pixels on each side; events are shifted onto it (_check_events)
        self.pad = g.padding
        self.H, self.W = g.sensor_height + 2 * self.pad, g.sensor_width + 2 * self.pad
        self.OH, self.OW = g.out_height, g.out_width
        self.neuron_shape = (self.C, self.OH, self.OW)
        self.cell_shape = (self.C, self.OH, self.OW, self.P, self.K, self.K)
        var_on = config.variation == "paper"
        self.variation_on = var_on
        seed = int(config.variation_seed)
        pr, c = self.preset, self.preset.circuit
        self.cells = WeightCellModel(pr, config.weight_config, config.weight_bits,
                                     config.transistor_bits)
        self.i_w_max = self.cells.check_weight_devices_static()

        # ---- static variation (streams are independent of each other)
        ns = self.neuron_shape

        def rf(name: str, p, shape) -> np.ndarray:
            return resistance_factor(seed, name, shape, p.r_var_3sigma, var_on)

        self._acc_r = {s: rf(f"acc_{s}_r", pr.accumulator, ns) for s in ("pos", "neg")}
        self._acc_hm = {s: rf(f"acc_{s}_hm", pr.accumulator, ns) for s in ("pos", "neg")}
        self.acc_pos = MDWMTJArray(pr.accumulator, ns, self._acc_r["pos"], self._acc_hm["pos"],
                                   c.reset_current, c.reset_pulse_width)
        self.acc_neg = MDWMTJArray(pr.accumulator, ns, self._acc_r["neg"], self._acc_hm["neg"],
                                   c.reset_current, c.reset_pulse_width)
        th = pr.threshold_device
        self.th_top = MDWMTJArray(th, ns, rf("th_top_r", th, ns), rf("th_top_hm", th, ns),
                                  c.prog_current, c.prog_reset_width)
        self.th_bot = MDWMTJArray(th, ns, rf("th_bot_r", th, ns), rf("th_bot_hm", th, ns),
                                  c.prog_current, c.prog_reset_width)
        if var_on:
            self.comp_offset = c.comparator_offset_sigma * truncated_normal(
                stream_rng(seed, "comparator"), ns, 3.0)
        else:
            self.comp_offset = np.zeros(ns)
        #: each comparator's offset trim (V), subtracted from its input: trim code x LSB
        self.comp_trim = np.zeros(ns)
        if config.comparator_trim is not None:
            self.comp_trim = np.asarray(config.comparator_trim, np.float64) \
                * c.comparator_trim_lsb
        self._mos_z = (truncated_normal(stream_rng(seed, "mos_vt"), self.cell_shape, 3.0),
                       truncated_normal(stream_rng(seed, "mos_beta"), self.cell_shape, 3.0))
        if not var_on:
            self._mos_z = (np.zeros(self.cell_shape), np.zeros(self.cell_shape))
        self.weight_dev = None
        if config.weight_config != "cmos":
            wd = pr.weight_device
            self.weight_dev = MDWMTJArray(wd, self.cell_shape, rf("w_r", wd, self.cell_shape),
                                          rf("w_hm", wd, self.cell_shape), c.prog_current,
                                          c.prog_reset_width)
        self._cell_hm = np.broadcast_to(
            np.stack([self._acc_hm["pos"], self._acc_hm["neg"]])[..., None, None, None],
            (2,) + self.cell_shape)

        # ---- programming state
        self._prog_key = stream_key(seed, "prog_jitter")
        self._event_key = stream_key(seed, "event_jitter")
        self._jit_sigma = c.jitter_sigma if var_on else 0.0
        self.w_pulses = np.zeros(self.cell_shape, dtype=np.int64)  # set pulses since reset
        self.th_pulses = np.zeros((2,) + ns, dtype=np.int64)
        self.event_count = 0
        self._a = np.zeros(self.cell_shape, dtype=np.int64)
        self._dirty = np.ones(self.cell_shape, dtype=bool)
        self._vth_cache: np.ndarray | None = None
        self._latch: DividerComparator | None = None  # static part of the comparator
        self._m_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # ticks, wall means
        self._flags: np.ndarray | None = None  # the last latch's decisions
        sign = np.asarray(config.weight_sign, dtype=np.int64)  # (C, P, K, K)
        sign_cells = np.broadcast_to(sign[:, None, None], self.cell_shape)
        self._pos_mask = sign_cells > 0
        self._neg_mask = sign_cells < 0
        # gather index: patch[oy, ox, p, ky, kx] = S[p, S oy + ky, S ox + kx]
        oy, ox, pp, ky, kx = np.meshgrid(np.arange(self.OH), np.arange(self.OW), np.arange(self.P),
                                         np.arange(self.K), np.arange(self.K), indexing="ij")
        self._gather = ((pp * self.H + self.S * oy + ky) * self.W + self.S * ox + kx).ravel()
        # per pixel row/column: the R = ceil(K/S) candidate output rows and kernel rows
        self._ytab, self._ktab_y = _cover_table(self.H, self.OH, self.K, self.S)
        self._xtab, self._ktab_x = _cover_table(self.W, self.OW, self.K, self.S)
        self._taps_per_pixel = self._ytab.shape[1] * self._xtab.shape[1]
        if programmed:
            self.program_from_config(config)

    # ================================================================ programming
    def _set_pulse_ticks(self, target: int, dev_index: np.ndarray, pulse_no: np.ndarray,
                         bits: int, width_s: float | None = None) -> np.ndarray:
        """Ticks of one programming set pulse, jittered: one code step ``l_fl/(2**bits - 1)``
        at the nominal width ``prog_set_width`` (the set current is trimmed for it, see
        ``DevicePreset.set_current``); a pulse of ``width_s`` (s) moves ``width_s /
        prog_set_width`` code steps (constant current: displacement = v(I) x width),
        rounded to a tick."""
        nominal = TRACK_TICKS // (2**bits - 1)
        if width_s is not None:
            ratio = width_s / self.preset.circuit.prog_set_width
            nominal = np.int64(np.rint(float(nominal) * min(ratio, 2.0 * (2**bits - 1))))
        idx = (np.int64(target) << 58) | (dev_index.astype(np.int64) << 16) | pulse_no
        j = jitter_ticks(self._prog_key, idx, self._jit_sigma)
        return (nominal * j) >> JITTER_BITS

    def _program_devices(self, dev: MDWMTJArray, pulses: np.ndarray, target: int,
                         sel: np.ndarray, codes: np.ndarray, bits: int) -> None:
        """Reset the devices ``sel`` (bool mask) then apply ``codes`` set pulses to each."""
        dev.reset(sel)
        pulses[sel] = 0
        idx = np.flatnonzero(sel)
        n = np.asarray(np.broadcast_to(codes, sel.shape)).reshape(-1)[idx].astype(np.int64)
        keep = n > 0
        idx, n = idx[keep], n[keep]
        if idx.size == 0:
            return
        # all set pulses at once: pulse k of device i has jitter draw (target, i, k); after
        # the reset the position is 0 and steps are >= 0, so clamping the sum once equals
        # clamping after every pulse (bit for bit). In chunks of devices, so that the pulse
        # arrays stay small on large chips (DVS128: ~17 M set pulses)
        t = dev.ticks.copy().reshape(-1)
        cum = np.cumsum(n)
        lo = 0
        while lo < idx.size:
            hi = max(lo + 1, int(np.searchsorted(cum, cum[lo] - n[lo] + _PROG_CHUNK, "right")))
            ci, cn = idx[lo:hi], n[lo:hi]
            first = np.cumsum(cn) - cn
            pulse_no = np.arange(int(cn.sum()), dtype=np.int64) - np.repeat(first, cn)
            step = self._set_pulse_ticks(target, np.repeat(ci, cn), pulse_no, bits)
            t[ci] = np.minimum(t[ci] + np.add.reduceat(step, first), TRACK_TICKS)
            lo = hi
        dev.ticks = t.reshape(sel.shape)
        pulses[sel] = np.broadcast_to(codes, sel.shape)[sel]

    def program_from_config(self, config: ChipConfig) -> None:
        """Program every weight and threshold device from ``config``'s codes (reset, then
        ``code`` set pulses each), as the RTL would. Geometry and weight configuration must
        match this instance; signs and transistor codes are fabrication and are not changed."""
        if config.geometry != self.geometry or config.weight_config != self.config.weight_config:
            raise ValueError("config: geometry/weight_config differ from this chip instance")
        if self.weight_dev is not None:
            codes = np.broadcast_to(np.asarray(config.weight_codes)[:, None, None], self.cell_shape)
            has_cell = self._pos_mask | self._neg_mask  # sign 0: no device to program
            self._program_devices(self.weight_dev, self.w_pulses, TARGET_WEIGHT, has_cell,
                                  codes, config.weight_bits)
        tc = np.broadcast_to(np.asarray(config.threshold_codes)[:, None, None], self.neuron_shape)
        bottom_codes = (2**config.threshold_bits - 1) - tc
        everything = np.ones(self.neuron_shape, bool)
        self._program_devices(self.th_top, self.th_pulses[0], TARGET_TH_TOP, everything,
                              tc, config.threshold_bits)
        self._program_devices(self.th_bot, self.th_pulses[1], TARGET_TH_BOTTOM, everything,
                              bottom_codes, config.threshold_bits)
        self._dirty[...] = True
        self._thresholds_changed()

    def _thresholds_changed(self) -> None:
        """Drop everything derived from the threshold devices (V_th, the latch)."""
        self._vth_cache = None
        self._latch = None
        self._flags = None

    def program_pulse(self, target: int, index: int, reset: bool,
                      width_s: float | None = None) -> None:
        """One RTL programming pulse (``ana_prog``): ``target`` 0 weight cell, 1 threshold top,
        2 threshold bottom; ``index`` as in ``rtl/REGISTERS.md``; ``reset`` True for the
        reset-direction pulse (``ana_prog_dir`` 1: the wall moves left by
        ``v(prog_current) * width``, stopping at q = 0), False for a set pulse (one code
        step at the nominal width, ``width / prog_set_width`` steps otherwise).

        ``width_s``: the pulse width (s) the RTL produced (cycles / f_clk); None is the
        preset's nominal width (``prog_reset_width`` or ``prog_set_width``, the RTL defaults
        PROG_RST_WIDTH = 32 and PROG_SET_WIDTH = 4 cycles at 100 MHz)."""
        if target not in (0, 1, 2):
            raise ValueError(f"target: must be 0, 1 or 2, got {target!r}")
        width_s = _check_width(width_s)
        cfg = self.config
        if target == TARGET_WEIGHT:
            n_idx = self.C * self.P * self.K * self.K
            if not isinstance(index, (int, np.integer)) or not 0 <= index < n_idx:
                raise ValueError(f"index: weight index must be in [0, {n_idx}), got {index!r}")
            if self.weight_dev is None:
                return  # a CMOS chip has no weight MDWMTJ: the pulse drives nothing
            c, rem = divmod(int(index), self.P * self.K * self.K)
            p, rem = divmod(rem, self.K * self.K)
            ky, kx = divmod(rem, self.K)
            sel = np.zeros(self.cell_shape, bool)
            sel[c, :, :, p, ky, kx] = True
            dev, pulses, bits = self.weight_dev, self.w_pulses, cfg.weight_bits
        else:
            if not isinstance(index, (int, np.integer)) or not 0 <= index < self.C:
                raise ValueError(f"index: channel must be in [0, {self.C}), got {index!r}")
            sel = np.zeros(self.neuron_shape, bool)
            sel[int(index)] = True
            dev = self.th_top if target == TARGET_TH_TOP else self.th_bot
            pulses = self.th_pulses[target - 1]
            bits = cfg.threshold_bits
        if reset:
            dev.reset(sel, width_s)
            pulses[sel] = 0
        else:
            dev_index = np.flatnonzero(sel)
            step = self._set_pulse_ticks(target, dev_index, pulses[sel], bits, width_s)
            t = dev.ticks.copy()
            t[sel] = np.minimum(t[sel] + step, TRACK_TICKS)
            dev.ticks = t
            pulses[sel] += 1
        if target == TARGET_WEIGHT:
            self._dirty |= sel
        else:
            self._thresholds_changed()

    # ================================================================ increments
    def _update_increments(self) -> None:
        if not self._dirty.any():
            return
        m = self._dirty
        current = self._cell_current(m)
        pr = self.preset
        dq = pr.accumulator.velocity(current) * pr.circuit.write_pulse_width
        a = np.floor(np.minimum(dq / pr.accumulator.l_fl, 2.0) * float(1 << _A_SHIFT))
        self._a[m] = a.astype(np.int64)
        self._dirty[...] = False
        amax = np.maximum(self._a, 1)
        self._a_lim = TRACK_TICKS // amax
        self._a_pos_cur = np.where(self._pos_mask, self._a, 0)
        self._a_neg_cur = np.where(self._neg_mask, self._a, 0)
        self._a_max = int(self._a.max(initial=0))
        flat = self.neuron_shape + (self.P * self.K * self.K,)
        self._a_pos_flat = np.ascontiguousarray(self._a_pos_cur.reshape(flat))
        self._a_neg_flat = np.ascontiguousarray(self._a_neg_cur.reshape(flat))

    def cell_currents(self) -> np.ndarray:
        """Write current ``I_W`` (A) of every weight cell with its static variation and the
        present weight-device state, ``(C, OH, OW, P, K, K)`` (cells with ``weight_sign == 0``
        included: they drive no accumulator)."""
        return self._cell_current(np.ones(self.cell_shape, bool)).reshape(self.cell_shape)

    def _cell_current(self, m: np.ndarray) -> np.ndarray:
        """Write currents (A) of the cells selected by the bool mask ``m`` (cell shape), 1-D."""
        cfg, pr = self.config, self.preset
        tp = pr.transistor
        wcodes = np.broadcast_to(np.asarray(cfg.weight_codes)[:, None, None], self.cell_shape)[m]
        tcodes = None
        if cfg.transistor_codes is not None:
            tcodes = np.broadcast_to(np.asarray(cfg.transistor_codes)[:, None, None],
                                     self.cell_shape)[m]
        width = self.cells.transistor_width(wcodes, tcodes)
        area = width * self.cells.length
        sel_hm = np.where(self._pos_mask[m], self._cell_hm[0][m], self._cell_hm[1][m])
        var = CellVariation(dvt=tp.a_vt / np.sqrt(area) * self._mos_z[0][m],
                            beta_factor=1.0 + tp.a_beta / np.sqrt(area) * self._mos_z[1][m],
                            acc_hm_scale=sel_hm)
        d = None
        if self.weight_dev is not None:
            d = self.weight_dev.d[m]
            var.r_scale = self.weight_dev.r_scale[m]
            var.hm_scale = self.weight_dev.hm_scale[m]
        return self.cells.current(width, d, var)

    @property
    def increments(self) -> np.ndarray:
        """Nominal-width per-event displacement of every cell, normalized to the track,
        ``(C, OH, OW, P, K, K)`` float (the cell's sign decides which accumulator moves)."""
        self._update_increments()
        return self._a.astype(np.float64) / float(1 << _A_SHIFT)

    # ================================================================ events
    def _check_events(self, x, y, p) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        xa, ya, pa = as_int_array("x", x), as_int_array("y", y), as_int_array("p", p)
        if xa.ndim != 1 or ya.shape != xa.shape or pa.shape != xa.shape:
            raise ValueError(f"x, y, p: must be 1-D of one length, got shapes "
                             f"{xa.shape}, {ya.shape}, {pa.shape}")
        sensor_w, sensor_h = self.W - 2 * self.pad, self.H - 2 * self.pad
        for name, a, hi in (("x", xa, sensor_w), ("y", ya, sensor_h), ("p", pa, self.P)):
            if a.size and (a.min() < 0 or a.max() >= hi):
                bad = int(np.flatnonzero((a < 0) | (a >= hi))[0])
                raise ValueError(f"{name}: must lie in [0, {hi - 1}] for this sensor, got "
                                 f"{name}[{bad}] = {int(a[bad])}")
        if self.pad:  # onto the padded grid of the windows
            xa, ya = xa + self.pad, ya + self.pad
        return xa, ya, pa

    def event_jitter(self, first: int, n: int) -> np.ndarray:
        """Jittered pulse widths (units of 2**-16 of the nominal) of the events keyed
        ``first .. first + n - 1`` (see :meth:`event_jitter_at`)."""
        return self.event_jitter_at(np.arange(first, first + n, dtype=np.int64))

    def event_jitter_at(self, index) -> np.ndarray:
        """Jittered write-pulse widths, int64 in units of 2**-16 of the nominal ``t_w``, of
        the events keyed ``index`` (int array >= 0): a pure function of
        ``(variation_seed, index)`` (2**16 exactly without variation)."""
        return jitter_ticks(self._event_key, self._check_index(index, None), self._jit_sigma)

    @staticmethod
    def _check_index(index, n: int | None) -> np.ndarray:
        a = as_int_array("index", index)
        if a.ndim != 1 or (n is not None and a.size != n):
            per = "" if n is None else f" with one key per event ({n})"
            raise ValueError(f"index: must be 1-D{per}, got shape {a.shape}")
        if a.size and a.min() < 0:
            bad = int(np.flatnonzero(a < 0)[0])
            raise ValueError(f"index: must be >= 0, got index[{bad}] = {int(a[bad])}")
        return a

    def _event_keys(self, n: int, index) -> np.ndarray:
        """The jitter keys of a batch of ``n`` events (advances ``event_count`` by ``n``)."""
        if index is None:
            keys = np.arange(self.event_count, self.event_count + n, dtype=np.int64)
        else:
            keys = self._check_index(index, n)
        self.event_count += n
        return keys

    def apply_events(self, x, y, p, index=None) -> None:
        """Apply a batch of events (pixel column ``x``, row ``y``, polarity ``p``; 1-D int
        arrays of one length), vectorized. Same final state, bit for bit, as
        :meth:`apply_events_reference` on the same events with the same keys.

        ``index``: the events' jitter keys (1-D int64 >= 0, one per event; e.g. each event's
        index within its sample): event ``k``'s write pulse is ``t_w (1 + 0.1 z)`` with
        ``z`` a pure function of ``(variation_seed, index[k])``, so any split or permutation
        of the events with the same keys gives the same state, bit for bit (increments are
        non-negative integers, clamped only at the track end). None: the running count of
        events this instance has applied (``event_count``, from 0 at construction), the
        keys of the events in call order. ``event_count`` advances by the batch size either
        way (do not mix the two on one instance if keys must not repeat)."""
        xa, ya, pa = self._check_events(x, y, p)
        n = xa.size
        keys = self._event_keys(n, index)
        if n == 0:
            return
        self._update_increments()
        j = jitter_ticks(self._event_key, keys, self._jit_sigma)
        if 8 * n * self._taps_per_pixel * self.C < self._a.size:  # measured crossover
            self._apply_sparse(xa, ya, pa, j)
        else:
            self._apply_dense(xa, ya, pa, j)

    def _apply_dense(self, xa, ya, pa, j) -> None:
        """Batch path for many events: per-pixel jitter sums, then a stride-S convolution."""
        pix = (pa * self.H + ya) * self.W + xa
        s = np.bincount(pix, weights=j, minlength=self.P * self.H * self.W)
        # exact: integer sums below 2**53 (n < 2**36 events per batch)
        s_int = s.astype(np.int64)
        patch = s_int[self._gather].reshape(self.OH, self.OW, self.P * self.K * self.K)
        taps = self.P * self.K * self.K
        if int(s_int.max()) * int(self._a_max) * taps < (1 << 62):
            # no product can overflow: one exact integer contraction per accumulator
            for acc, a in ((self.acc_pos, self._a_pos_flat), (self.acc_neg, self._a_neg_flat)):
                inc = np.einsum("cyxk,yxk->cyx", a, patch)
                acc.ticks = np.minimum(acc.ticks + inc, TRACK_TICKS)
            return
        sp = np.broadcast_to(patch.reshape(self.OH, self.OW, self.P, self.K, self.K),
                             self.cell_shape)
        capped = np.minimum(sp, self._a_lim)
        sat = sp > self._a_lim
        for acc, a in ((self.acc_pos, self._a_pos_cur), (self.acc_neg, self._a_neg_cur)):
            # a product that would pass the track end saturates the neuron anyway
            prod = np.where(sat & (a > 0), TRACK_TICKS, a * capped)
            inc = prod.reshape(self.neuron_shape + (-1,)).sum(-1)
            acc.ticks = np.minimum(acc.ticks + inc, TRACK_TICKS)

    def _apply_sparse(self, xa, ya, pa, j) -> None:
        """Batch path for few events: only the (event, neuron, channel) triples touched."""
        oy, ky = self._ytab[ya], self._ktab_y[ya]  # (n, R)
        ox, kx = self._xtab[xa], self._ktab_x[xa]
        valid = (oy[:, :, None] >= 0) & (ox[:, None, :] >= 0)  # (n, R, R)
        e, r1, r2 = np.nonzero(valid)
        oy_, ox_ = oy[e, r1], ox[e, r2]
        cell = (((oy_ * self.OW + ox_) * self.P + pa[e]) * self.K + ky[e, r1]) * self.K \
            + kx[e, r2]  # index into (OH, OW, P, K, K)
        nrn = oy_ * self.OW + ox_  # index into (OH, OW)
        n_cells = self.OH * self.OW * self.P * self.K * self.K
        flat = (np.arange(self.C)[:, None] * (self.OH * self.OW) + nrn[None, :]).ravel()
        for acc, a in ((self.acc_pos, self._a_pos_cur), (self.acc_neg, self._a_neg_cur)):
            steps = (a.reshape(self.C, n_cells)[:, cell] * j[e]).ravel()  # int64, exact
            acc.ticks = np.ascontiguousarray(acc.ticks)
            t = acc.ticks.reshape(-1)  # a view: updated in place
            np.add.at(t, flat, steps)
            t[flat] = np.minimum(t[flat], TRACK_TICKS)

    def apply_events_reference(self, x, y, p, index=None) -> None:
        """The naive per-event reference of :meth:`apply_events` (pure Python loops, one
        jitter draw and one clamp per event); ``index`` as there."""
        xa, ya, pa = self._check_events(x, y, p)
        keys = self._event_keys(xa.size, index)
        self._update_increments()
        a = self._a
        pos, neg = self.acc_pos.ticks, self.acc_neg.ticks
        pmask = self._pos_mask
        nmask = self._neg_mask
        L = int(TRACK_TICKS)
        for e in range(xa.size):
            xe, ye, pe = int(xa[e]), int(ya[e]), int(pa[e])
            j = int(self.event_jitter_at(keys[e:e + 1])[0])
            for oy in range(self.OH):
                ky = ye - self.S * oy
                if not 0 <= ky < self.K:
                    continue
                for ox in range(self.OW):
                    kx = xe - self.S * ox
                    if not 0 <= kx < self.K:
                        continue
                    for c in range(self.C):
                        step = int(a[c, oy, ox, pe, ky, kx]) * j
                        if pmask[c, oy, ox, pe, ky, kx]:
                            pos[c, oy, ox] = min(int(pos[c, oy, ox]) + step, L)
                        elif nmask[c, oy, ox, pe, ky, kx]:
                            neg[c, oy, ox] = min(int(neg[c, oy, ox]) + step, L)

    # ================================================================ readout
    @property
    def d_pos(self) -> np.ndarray:
        """Positive accumulators' DW positions, normalized 0..1, (C, OH, OW)."""
        return self.acc_pos.d

    @property
    def d_neg(self) -> np.ndarray:
        """Negative accumulators' DW positions, normalized 0..1, (C, OH, OW)."""
        return self.acc_neg.d

    def v_pre(self, sel=None) -> np.ndarray:
        """Pre-activation voltages (V), (C, OH, OW): negative accumulator on top, positive
        at the bottom of the divider across ``V_read`` (bisection, resolution
        ``V_read / 2**36``). ``sel``: any numpy index into (C, OH, OW), e.g. ``(c, y, x)``
        for one neuron (the waveform taps), to solve only those neurons. The comparator
        does not need this solve: see :meth:`sample`."""
        pr = self.preset
        n, p = self.acc_neg, self.acc_pos
        if sel is None:
            sel = ...
        return divider_voltage(pr.accumulator, n.d[sel], pr.accumulator, p.d[sel],
                               pr.circuit.v_read, n.r_scale[sel], n.hm_scale[sel],
                               p.r_scale[sel], p.hm_scale[sel])

    def v_th(self) -> np.ndarray:
        """Threshold voltages (V), (C, OH, OW), from the programmed threshold dividers
        (cached until the next programming pulse or state load)."""
        if self._vth_cache is None:
            pr = self.preset
            th = pr.threshold_device
            self._vth_cache = divider_voltage(th, self.th_top.d, th, self.th_bot.d,
                                              pr.circuit.v_read, self.th_top.r_scale,
                                              self.th_top.hm_scale, self.th_bot.r_scale,
                                              self.th_bot.hm_scale)
        return self._vth_cache

    def _wall_means(self, key: str, dev: MDWMTJArray) -> tuple[np.ndarray, np.ndarray | None]:
        """Wall-profile means of an accumulator array, recomputed only where it moved since
        the last call (the cache compares ticks: exact), and the flat indices that moved
        (None: all, or no cache yet)."""
        t = dev.ticks
        cached = self._m_cache.get(key)
        if cached is None or cached[0].shape != t.shape:
            m = wall_profile_mean_ticks(dev.params, t)
            self._m_cache[key] = (t.copy(), m)
            return m, None
        old, m = cached
        moved = np.flatnonzero(t != old)
        if 2 * moved.size > t.size:  # most moved: the whole array is cheaper than a subset
            m[...] = wall_profile_mean_ticks(dev.params, t)
            old[...] = t
            return m, None
        if moved.size:
            tm = t.reshape(-1)[moved]
            m.reshape(-1)[moved] = wall_profile_mean_ticks(dev.params, tm)
            old.reshape(-1)[moved] = tm
        return m, moved

    def sample(self) -> np.ndarray:
        """Latch every comparator: flags (C, OH, OW) bool, ``V_pre > V_th + offset + trim``.

        Exact without solving the divider for V_pre (:class:`DividerComparator`: the sign
        of ``I_top - I_bot`` at ``V_th + offset``); the per-neuron reference terms are kept
        until the thresholds change, and only neurons whose accumulators moved since the
        last latch are evaluated again. Equal to the decision of a high-precision solve
        wherever ``|V_pre - V_th - offset| > 1e-9 V`` (tested); ~0.5 ms for 32x16x16 neurons
        after a window that moved half of them (``bench/bench_analog.py``). Returns a copy."""
        if self._latch is None:
            pr, acc = self.preset, self.preset.accumulator
            self._latch = DividerComparator(acc, acc, pr.circuit.v_read,
                                            self.v_th() + self.comp_offset + self.comp_trim,
                                            self.acc_neg.r_scale, self.acc_neg.hm_scale,
                                            self.acc_pos.r_scale, self.acc_pos.hm_scale)
        m_neg, mv_neg = self._wall_means("neg", self.acc_neg)
        m_pos, mv_pos = self._wall_means("pos", self.acc_pos)
        if self._flags is None or mv_neg is None or mv_pos is None:
            self._flags = self._latch.above(m_neg, m_pos)
        else:
            hit = np.zeros(m_neg.size, dtype=bool)
            hit[mv_neg] = True
            hit[mv_pos] = True
            moved = np.flatnonzero(hit)
            if 4 * moved.size > m_neg.size:
                self._flags = self._latch.above(m_neg, m_pos)
            elif moved.size:
                self._flags.reshape(-1)[moved] = self._latch.above(
                    m_neg.reshape(-1)[moved], m_pos.reshape(-1)[moved], moved)
        return self._flags.copy()

    def reset(self, mask, width_s: float | None = None) -> None:
        """Reset pulse on both accumulators of the neurons in ``mask`` (bool, (C, OH, OW) or
        broadcastable to it): their walls move left by ``v(reset_current) * width_s`` and
        stop at q = 0; the others keep their state. ``width_s`` (s): the width of the RTL's
        ``ana_rst`` pulse (RST_WIDTH / f_clk); None is the nominal ``reset_pulse_width``
        (RST_WIDTH = 16 cycles at 100 MHz), which sweeps the whole track. Shorter than
        ``preset.min_reset_width_s()`` (75.9 ns for ``paper2024``) leaves walls short."""
        width_s = _check_width(width_s)
        m = np.asarray(mask)
        if m.dtype != bool:
            raise ValueError(f"mask: must be boolean, got dtype {m.dtype}")
        if m.shape != self.neuron_shape:
            broadcast("mask", m, self.neuron_shape)
            m = np.broadcast_to(m, self.neuron_shape)
        self.acc_pos.reset(m, width_s)
        self.acc_neg.reset(m, width_s)

    def reset_channel(self, channel: int, mask, width_s: float | None = None) -> None:
        """Reset the neurons ``mask`` ((OH, OW) bool) of ``channel`` (the RTL's ``ana_rst``
        with ``ana_rst_ch``/``ana_rst_mask``); ``width_s`` as in :meth:`reset`."""
        if not isinstance(channel, (int, np.integer)) or not 0 <= channel < self.C:
            raise ValueError(f"channel: must be in [0, {self.C}), got {channel!r}")
        m = np.asarray(mask)
        if m.dtype != bool or m.shape != (self.OH, self.OW):
            raise ValueError(f"mask: must be bool of shape {(self.OH, self.OW)}, got "
                             f"{m.dtype} {m.shape}")
        full = np.zeros(self.neuron_shape, bool)
        full[channel] = m
        self.reset(full, width_s)

    def reset_all(self, width_s: float | None = None) -> None:
        """Global reset (``ana_rst`` with ``ana_rst_all``): every accumulator of every
        channel; ``width_s`` as in :meth:`reset` (None: nominal, every wall to q = 0)."""
        width_s = _check_width(width_s)
        self.acc_pos.reset(None, width_s)
        self.acc_neg.reset(None, width_s)

    # ================================================================ state
    def _devices(self) -> dict[str, MDWMTJArray]:
        devs = {"pos": self.acc_pos, "neg": self.acc_neg, "th_top": self.th_top,
                "th_bot": self.th_bot}
        if self.weight_dev is not None:
            devs["weight"] = self.weight_dev
        return devs

    def state(self) -> dict[str, np.ndarray]:
        """Snapshot of everything that changes after construction: DW positions (ticks) of
        the accumulators (``pos``, ``neg``), the threshold devices (``th_top``, ``th_bot``)
        and the weight devices (``weight``, absent for ``cmos``), the programming pulse
        counters (``w_pulses``, ``th_pulses``: set pulses since each device's reset, the
        programming jitter keys) and the event counter (``event_count``, the default jitter
        key). Copies; restore with :meth:`load_state`."""
        st = {k: d.ticks.copy() for k, d in self._devices().items()}
        st.update({"w_pulses": self.w_pulses.copy(), "th_pulses": self.th_pulses.copy(),
                   "event_count": np.int64(self.event_count)})
        return st

    def load_state(self, st: dict[str, np.ndarray]) -> None:
        """Restore a :meth:`state` snapshot of this chip (same configuration): every device,
        counter and cache (increments, V_th, latch) follows it. ``ValueError`` naming a
        missing key or a shape that does not fit."""
        want = list(self._devices()) + ["w_pulses", "th_pulses", "event_count"]
        for k in want:
            if k not in st:
                raise ValueError(f"state: missing {k!r} (a snapshot of this chip has {want})")
        new = {}
        for k, dev in self._devices().items():
            new[k] = _state_array(st, k, dev.ticks.shape)
            if new[k].min(initial=0) < 0 or new[k].max(initial=0) > TRACK_TICKS:
                raise ValueError(f"state: {k} positions must lie in [0, {int(TRACK_TICKS)}] ticks")
        w_pulses = _state_array(st, "w_pulses", self.w_pulses.shape)
        th_pulses = _state_array(st, "th_pulses", self.th_pulses.shape)
        count = int(np.asarray(st["event_count"]))
        for k, dev in self._devices().items():
            dev.ticks = new[k]
        self.w_pulses, self.th_pulses, self.event_count = w_pulses, th_pulses, count
        self._dirty[...] = True
        self._thresholds_changed()
        self._m_cache.clear()


def _state_array(st: dict, key: str, shape: tuple[int, ...]) -> np.ndarray:
    a = np.asarray(st[key])
    if a.shape != shape or not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"state: {key} must be integer of shape {shape}, got {a.dtype} {a.shape}")
    return a.astype(np.int64).copy()


def _check_width(width_s) -> float | None:
    """A pulse width (s): None, or a finite scalar >= 0 (``ValueError`` naming ``width_s``)."""
    if width_s is None:
        return None
    w = as_float_array("width_s", width_s)
    if w.ndim != 0:
        raise ValueError(f"width_s: must be a scalar (s), got shape {w.shape}")
    return float(w)


def _cover_table(size: int, out: int, k: int, s: int) -> tuple[np.ndarray, np.ndarray]:
    """For each input coordinate 0..size-1: the output indices whose window covers it and
    the kernel offsets, (size, R) each, padded with -1."""
    r = -(-k // s)
    o_tab = np.full((size, r), -1, dtype=np.int64)
    k_tab = np.full((size, r), -1, dtype=np.int64)
    for v in range(size):
        found = [(o, v - s * o) for o in range(out) if 0 <= v - s * o < k]
        for i, (o, kk) in enumerate(found):
            o_tab[v, i], k_tab[v, i] = o, kk
    return o_tab, k_tab
