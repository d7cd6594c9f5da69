#!/usr/bin/env bash
# Quick plain-Verilog smoke of the RTL (not in CI; ~30 s): tb_smoke with random backpressure,
# a fixed-latency dense readout, a mid-readout reset, the small geometry, and the
# clock-on-request vs free-running-clock comparisons (the AER / reset / programming event
# traces must be identical: short random ack delays with a mid-readout reset; long random
# ack delays at asynchronous offsets). Exit 1 on any failure. Contract: rtl/REGISTERS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mapfile -t SRCS < <(sed -e 's@\(#\|//\).*@@' -e 's/[[:space:]]*$//' rtl/files.f | grep -v '^$')
AGENTS=tb/hdl/p2m_tb_agents.v     # clock source and slow clock models
iverilog -g2005 -o "$tmp/smoke.vvp" -s tb_smoke "${SRCS[@]}" "$AGENTS" rtl/sim/tb_smoke.v
iverilog -g2005 -o "$tmp/small.vvp" -s tb_small "${SRCS[@]}" "$AGENTS" rtl/sim/tb_small.v
fail=0
run() {  # run <label> <vvp> <plusargs...>
  local label=$1 vvp=$2; shift 2
  local out; out=$(vvp -n "$vvp" "$@" | grep -v '^FST\|^VCD')
  if echo "$out" | tail -1 | grep -q '^PASS'; then
    echo "ok    $label: $(echo "$out" | grep -E 'spikes|small geometry' | head -1)"
  else
    echo "$out" | grep -E 'ERROR|FAIL' | head -5; echo "FAIL  $label"; fail=1
  fi
}
run "random backpressure 0..4" "$tmp/smoke.vvp" +windows=20 +seed=1 +maxdly=4 +density=20
run "dense, L = 0"             "$tmp/smoke.vvp" +windows=2 +density=256 +fixdly=0
run "mid-readout reset"        "$tmp/smoke.vvp" +windows=4 +density=30 +maxdly=3 +seed=7 +midreset
run "small geometry"           "$tmp/small.vvp" +seed=3
compare() {  # compare <label> <plusargs...>: clock on request vs free-running, same events
  local label=$1; shift
  vvp -n "$tmp/smoke.vvp" "$@" +trace="$tmp/a.txt" > "$tmp/a.log"
  vvp -n "$tmp/smoke.vvp" "$@" +freeclk +trace="$tmp/b.txt" > "$tmp/b.log"
  if tail -1 "$tmp/a.log" | grep -q '^PASS' && tail -1 "$tmp/b.log" | grep -q '^PASS' &&
     cmp -s "$tmp/a.txt" "$tmp/b.txt"; then
    echo "ok    $label: event traces identical ($(wc -l < "$tmp/a.txt") events; on request: $(grep -o 'clock on request.*' "$tmp/a.log" | cut -d: -f2); free: $(grep -o 'clock on request.*' "$tmp/b.log" | cut -d: -f2))"
  else
    echo "FAIL  $label"; fail=1
  fi
}
compare "clock on request vs free clk" +windows=4 +density=40 +maxdly=3 +seed=41 +midreset
compare "same, long backpressure" +windows=6 +density=20 +maxdly=4 +longdly=300 +longpct=10 +jitter +seed=1
exit $fail
