"""``p2m events ...``: inspect event files and the built-in default dataset.

* ``p2m events info PATH [--json]``: event count, sensor size, duration, first/last
  timestamps, ON fraction (and what the reader skipped or fixed);
* ``p2m events show PATH -o frames.png [--frames T]``: T time-window count frames,
  ON in red and OFF in blue;
* ``p2m events default [--out DIR] [--n N] [--seed S] [--json]``: build (or load from
  the cache) the emulated digits dataset, print its statistics, and optionally write
  its first N samples as N-MNIST ``.bin`` files plus ``labels.txt``.
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
    p.set_defaults(func=_info)

    p = sub.add_parser("show", help="render an event file as T count frames (PNG)")
    p.add_argument("path")
    p.add_argument("-o", "--out", required=True, help="output PNG file")
    p.add_argument("--frames", type=int, default=6, help="number of time windows T (default 6)")
    p.add_argument("--format", default=None)
    p.set_defaults(func=_show)

    p = sub.add_parser("default", help="build/inspect the built-in emulated digits dataset")
    p.add_argument("--out", default=None, help="write the first N samples as .bin here")
    p.add_argument("--n", type=int, default=16, help="samples written with --out (default 16)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_default)

    ev.set_defaults(func=lambda args: (ev.print_help(), 2)[1])


def _info(args) -> int:
    from golden.events import read_events

    s = read_events(args.path, format=args.format).summary()
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


def render_frames_png(events, sensor_size, T: int, out, title: str = "") -> None:
    """Save T time-window count frames of ``events`` as one PNG row (ON red, OFF blue)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from golden.framing import frame_events

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
    fig.savefig(out, dpi=100)
    plt.close(fig)


def _show(args) -> int:
    from golden.events import read_events

    s = read_events(args.path, format=args.format)
    render_frames_png(s.events, s.sensor_size, args.frames, args.out,
                      title=f"{args.path} ({len(s)} events, {s.duration_us / 1000:.1f} ms)")
    print(f"wrote {args.out}")
    return 0


def _default(args) -> int:
    from pathlib import Path

    from golden.default_dataset import DefaultDigits, dataset_statistics
    from golden.events import write_nmnist_bin

    ds = DefaultDigits(seed=args.seed)
    stats = dataset_statistics([ds[i][0] for i in range(len(ds))])
    stats["cache"] = str(ds.cache_path)
    if args.out:
        if args.n < 0 or args.n > len(ds):
            raise ValueError(f"--n must be in [0, {len(ds)}], got {args.n}")
        out = Path(args.out)
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
    them back through :func:`golden.events.read_events` (checked equal), render sample 0
    as ``sample0_frames.png`` (6 time windows) and write ``stats.json``.

    Returns the summary dict (also in ``stats.json``)."""
    from pathlib import Path

    import numpy as np

    from golden.default_dataset import SENSOR_SIZE, dataset_statistics, default_samples
    from golden.events import read_events, write_nmnist_bin

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
