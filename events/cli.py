"""``p2m events ...``: inspect event files and the built-in default dataset.

* ``p2m events info PATH [--json]``: event count, sensor size, duration, first/last
  timestamps, ON fraction (and what the reader skipped or fixed);
* ``p2m events show PATH -o frames.png [--frames T]``: T time-window count frames,
  ON in red and OFF in blue (``.png`` is appended to an ``-o`` without it);
* ``p2m events default [--out DIR] [--n N] [--seed S] [--json]``: build (or load from
  the cache) the emulated digits dataset, print its statistics, and optionally write
  its first N samples as N-MNIST ``.bin`` files plus ``labels.txt``.

``info`` and ``show`` take the reader's fix-up policies (default: every anomaly is an
error): ``--sort`` (reorder events that go backwards in time), ``--time-tolerance-us N``
(reorder backward steps up to N us only), ``--out-of-range {error,clip,drop}`` (events
outside the sensor). What was fixed is counted in ``info.*``.
Arguments are checked before any work; ``p2m.cli.main`` turns file-system errors into
``p2m events: error: <path>: <reason>`` (exit status 2).
"""

from __future__ import annotations

import argparse
import json


def register(subparsers) -> None:
    ev = subparsers.add_parser(
        "events", help="event-camera files: info, show, default dataset",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Event-camera files (N-MNIST .bin, AEDAT 2.0/3.1/4.0, .npy/.npz) and\n"
                    "the built-in emulated digits dataset. See docs/events.md.")
    sub = ev.add_subparsers(dest="events_command", metavar="SUBCOMMAND")

    p = sub.add_parser("info", help="summary of an event file")
    p.add_argument("path")
    p.add_argument("--format", default=None, help="force the format (default: detect)")
    p.add_argument("--json", action="store_true", help="print JSON")
    _add_policy_args(p)
    p.set_defaults(func=_info)

    p = sub.add_parser("show", help="render an event file as T count frames (PNG)")
    p.add_argument("path")
    p.add_argument("-o", "--out", required=True,
                   help="output PNG file (.png is appended when the name lacks it)")
    p.add_argument("--frames", type=int, default=6, help="number of time windows T (default 6)")
    p.add_argument("--format", default=None)
    _add_policy_args(p)
    p.set_defaults(func=_show)

    p = sub.add_parser("default", help="build/inspect the built-in emulated digits dataset")
    p.add_argument("--out", default=None, help="write the first N samples as .bin here")
    p.add_argument("--n", type=int, default=16, help="samples written with --out (default 16)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_default)

    ev.set_defaults(func=lambda args: (ev.print_help(), 2)[1])


def _add_policy_args(p) -> None:
    """The fix-up policies of :func:`events.read_events` as flags."""
    g = p.add_argument_group("fix-up policies (default: every anomaly is an error)")
    g.add_argument("--sort", action="store_true",
                   help="stable-sort events that go backwards in time (counted in "
                        "info.sorted_moved_events)")
    g.add_argument("--time-tolerance-us", type=int, default=0, metavar="N",
                   help="reorder backward time steps of up to N us, error beyond "
                        "(default 0)")
    g.add_argument("--out-of-range", choices=("error", "clip", "drop"), default="error",
                   help="events outside the sensor: error (default), clip to the edge, "
                        "or drop them (counted in info.*_out_of_range)")


#: Library-argument hints in :class:`events.EventFormatError` messages and the
#: flags that do the same here, applied in order (the later, shorter ones catch a
#: reworded message).
_FLAG_HINTS = (
    ("out_of_range='clip' or 'drop'", "--out-of-range clip or drop"),
    ("sort=True reorders", "--sort reorders; --time-tolerance-us N accepts steps up to N us"),
    ("sort=True", "--sort"),
    ("time_tolerance_us", "--time-tolerance-us"),
)


def _read(args):
    """``read_events`` with the flags' policies; an error's fix-up hint names the flags."""
    from events.readers import read_events
    from events.stream import EventFormatError

    if args.time_tolerance_us < 0:
        raise ValueError(f"--time-tolerance-us must be >= 0, got {args.time_tolerance_us}")
    try:
        return read_events(args.path, format=args.format, sort=args.sort,
                           out_of_range=args.out_of_range,
                           time_tolerance_us=args.time_tolerance_us)
    except EventFormatError as exc:
        msg = str(exc)
        for lib, flag in _FLAG_HINTS:
            msg = msg.replace(lib, flag)
        exc.args = (msg,)
        raise


def _info(args) -> int:
    s = _read(args).summary()
    if args.json:
        print(json.dumps(s, indent=2))
        return 0
    print(f"file         {s['path']}")
    print(f"format       {s['format']}")
    print(f"events       {s['events']}")
    print(f"sensor (HxW) {s['sensor_size'][0]} x {s['sensor_size'][1]}")
    print(f"duration     {s['duration_us'] / 1000.0:.3f} ms")
    print(f"first / last {s['t_first_us']} / {s['t_last_us']} us")
    on = s["on_fraction"]
    print(f"ON fraction  {on:.4f}" if on is not None else "ON fraction  n/a")
    for k, v in s["info"].items():
        print(f"info.{k:<20} {v}")
    return 0


def png_path(out):
    """``out`` as a Path ending in ``.png`` (appended when missing, as matplotlib would)."""
    from pathlib import Path

    out = Path(out)
    return out if out.suffix.lower() == ".png" else out.with_name(out.name + ".png")


def render_frames_png(events, sensor_size, T: int, out, title: str = ""):
    """Save T time-window count frames of ``events`` as one PNG row (ON red, OFF blue).

    ``.png`` is appended to ``out`` when it lacks it; returns the path written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from events.framing import frame_events

    if T < 1:
        raise ValueError(f"--frames must be >= 1, got {T}")
    fr = frame_events(events, sensor_size, T).astype(np.float32)
    vmax = max(float(fr.max()), 1.0)
    fig, axes = plt.subplots(1, T, figsize=(2.2 * T, 2.4), squeeze=False)
    for k in range(T):
        rgb = np.zeros(tuple(sensor_size) + (3,), np.float32)
        rgb[..., 0] = fr[k, 1] / vmax
        rgb[..., 2] = fr[k, 0] / vmax
        ax = axes[0, k]
        ax.imshow(np.clip(rgb * 3, 0, 1), interpolation="nearest")
        ax.set_title(f"window {k}", fontsize=8)
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    out = png_path(out)
    try:
        fig.savefig(out, dpi=100, format="png")
    finally:
        plt.close(fig)
    return out


def _show(args) -> int:
    from pathlib import Path

    if args.frames < 1:
        raise ValueError(f"--frames must be >= 1, got {args.frames}")
    out = png_path(args.out)
    if out.is_dir():
        raise IsADirectoryError(21, "Is a directory", str(out))
    s = _read(args)
    written = render_frames_png(
        s.events, s.sensor_size, args.frames, out,
        title=f"{args.path} ({len(s)} events, {s.duration_us / 1000:.1f} ms)")
    if Path(args.out) != written:
        print(f"note: -o {args.out} has no .png suffix; writing {written}")
    print(f"wrote {written}")
    return 0


def _default(args) -> int:
    from pathlib import Path

    from events.default_dataset import DefaultDigits, dataset_statistics
    from events.formats.nmnist import write_nmnist_bin

    # check the arguments before the (minutes-long, progress-bar) build
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    if args.n < 0:
        raise ValueError(f"--n must be >= 0, got {args.n}")
    out = None
    if args.out:
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise FileExistsError(17, "exists and is not a directory", str(out))
    ds = DefaultDigits(seed=args.seed)
    stats = dataset_statistics([ds[i][0] for i in range(len(ds))])
    stats["cache"] = str(ds.cache_path)
    if out is not None:
        if args.n > len(ds):
            raise ValueError(f"--n must be in [0, {len(ds)}], got {args.n}")
        out.mkdir(parents=True, exist_ok=True)
        lines = ["#sample #class"]
        for i in range(args.n):
            ev, label = ds[i]
            write_nmnist_bin(out / f"{i + 1}.bin", ev)
            lines.append(f"{i + 1}\t{label}")
        (out / "labels.txt").write_text("\n".join(lines) + "\n")
        stats["written"] = {"dir": str(out), "samples": args.n}
    if args.json:
        print(json.dumps(stats, indent=2))
    else:
        for k, v in stats.items():
            print(f"{k:<18} {v}")
    return 0


def demo_events(out_dir, seed: int = 0, n: int = 8) -> dict:
    """The demo's events step: emulate the first ``n`` default-dataset samples (no full
    build, no cache), write them as N-MNIST ``.bin`` files with ``labels.txt``, read
    them back through :func:`events.read_events` (checked equal), render sample 0
    as ``sample0_frames.png`` (6 time windows) and write ``stats.json``.

    Returns the summary dict (also in ``stats.json``)."""
    from pathlib import Path

    import numpy as np

    from events.default_dataset import SENSOR_SIZE, dataset_statistics, default_samples
    from events.formats.nmnist import write_nmnist_bin
    from events.readers import read_events

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    evs, labels = default_samples(n, seed)
    lines = ["#sample #class"]
    for i, (ev, label) in enumerate(zip(evs, labels, strict=True)):
        f = out / f"{i + 1}.bin"
        write_nmnist_bin(f, ev)
        back = read_events(f)
        if not np.array_equal(back.events, ev) or back.sensor_size != SENSOR_SIZE:
            raise RuntimeError(f"{f}: the written events do not read back equal")
        lines.append(f"{i + 1}\t{int(label)}")
    (out / "labels.txt").write_text("\n".join(lines) + "\n")
    render_frames_png(evs[0], SENSOR_SIZE, 6, out / "sample0_frames.png",
                      title=f"default dataset sample 0 (digit {int(labels[0])}, emulated)")
    summary = dataset_statistics(evs)
    summary.update({"seed": seed, "labels": [int(v) for v in labels], "dir": str(out),
                    "note": "emulated events (sklearn digits, N-MNIST-style saccades)"})
    (out / "stats.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"    {n} samples, {summary['events_mean']:.0f} events/sample on average, "
          f"ON fraction {summary['on_fraction_mean']:.3f}")
    return summary
