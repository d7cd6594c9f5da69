#!/usr/bin/env bash
# Quick plain-Verilog smoke of the RTL (not in CI; ~1 minute): tb_smoke with random
# backpressure, a fixed-latency dense readout, a mid-readout reset, the small geometry, and
# the CLK_GATE = 1 vs 0 per-cycle port-trace comparisons (short random ack delays with a
# mid-readout reset; long random ack delays at asynchronous offsets). Exit 1 on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mapfile -t SRCS < <(sed -e 's@\(#\|//\).*@@' -e 's/[[:space:]]*$//' rtl/files.f | grep -v '^$')
iverilog -g2005 -o "$tmp/smoke.vvp" -s tb_smoke "${SRCS[@]}" rtl/sim/tb_smoke.v
iverilog -g2005 -DNOGATE -o "$tmp/smoke_ng.vvp" -s tb_smoke "${SRCS[@]}" rtl/sim/tb_smoke.v
iverilog -g2005 -o "$tmp/small.vvp" -s tb_small "${SRCS[@]}" rtl/sim/tb_small.v
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
vvp -n "$tmp/smoke.vvp" +windows=4 +density=40 +maxdly=3 +seed=41 +midreset +trace="$tmp/g.txt" >/dev/null
vvp -n "$tmp/smoke_ng.vvp" +windows=4 +density=40 +maxdly=3 +seed=41 +midreset +trace="$tmp/ng.txt" >/dev/null
if cmp -s "$tmp/g.txt" "$tmp/ng.txt"; then
  echo "ok    CLK_GATE 1 vs 0: port traces identical over $(wc -l < "$tmp/g.txt") cycles"
else
  echo "FAIL  CLK_GATE 1 vs 0: port traces differ"; fail=1
fi
# long AER backpressure with asynchronous ack offsets: the gate closes while waiting for ack
lb=(+windows=6 +density=20 +maxdly=4 +longdly=300 +longpct=10 +jitter +seed=1)
vvp -n "$tmp/smoke.vvp" "${lb[@]}" +trace="$tmp/lg.txt" > "$tmp/lg.log"
vvp -n "$tmp/smoke_ng.vvp" "${lb[@]}" +trace="$tmp/lng.txt" > "$tmp/lng.log"
if tail -1 "$tmp/lg.log" | grep -q '^PASS' && tail -1 "$tmp/lng.log" | grep -q '^PASS' &&
   cmp -s "$tmp/lg.txt" "$tmp/lng.txt"; then
  echo "ok    CLK_GATE 1 vs 0, long backpressure: port traces identical over $(wc -l < "$tmp/lg.txt") cycles ($(grep -o 'gated domain.*' "$tmp/lg.log"))"
else
  echo "FAIL  CLK_GATE 1 vs 0, long backpressure"; fail=1
fi
exit $fail
