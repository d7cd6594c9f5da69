"""``p2m sim ...``: run a cocotb testbench of the RTL (delegates to :mod:`tb.run`).

* ``p2m sim TEST [--seed N] [--waves]``: build and run ``tb/TEST.py`` under Icarus;
* ``p2m sim --list``: the test modules;
* ``p2m sim TEST --waves-only``: open the last FST of TEST in GTKWave.
"""

from __future__ import annotations


def register(subparsers) -> None:
    p = subparsers.add_parser("sim", help="run a cocotb testbench of the RTL (Icarus)",
                              description="Run a cocotb + pyuvm testbench of p2m_top under "
                                          "Icarus Verilog (see docs/verification.md).")
    p.add_argument("test", nargs="?", help="test module, e.g. test_aer_readout")
    p.add_argument("--seed", type=int, default=None, help="random seed (replays a failure)")
    p.add_argument("--waves", action="store_true", help="dump an FST + GTKWave save file")
    p.add_argument("--waves-only", action="store_true", help="open the last FST in GTKWave")
    p.add_argument("--testcase", default=None, help="only this cocotb test")
    p.add_argument("--list", action="store_true", help="list the test modules")
    p.set_defaults(func=_sim)


def _sim(args) -> int:
    from tb import run

    if args.list or not args.test:
        print("\n".join(run.TESTS))
        return 0 if args.list else 2
    argv = [args.test]
    if args.seed is not None:
        argv += ["--seed", str(args.seed)]
    if args.waves:
        argv.append("--waves")
    if args.waves_only:
        argv.append("--waves-only")
    if args.testcase:
        argv += ["--testcase", args.testcase]
    return run.main(argv)
