#!/usr/bin/env bash
# Make sure Icarus Verilog (>= 11, cocotb 2.1's minimum) is on PATH.
# As root with apt-get, install it (and gtkwave for `make waves`); otherwise say what to install.
set -euo pipefail
need_install=0
if ! command -v iverilog >/dev/null 2>&1; then
  need_install=1
fi
if [ "$need_install" = 1 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[setup] installing Icarus Verilog (and gtkwave) with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || apt-get update
    apt-get install -y -qq iverilog >/dev/null
    apt-get install -y -qq gtkwave >/dev/null 2>&1 || echo "[setup] note: gtkwave not installed (only needed for make waves)" >&2
  else
    cat >&2 <<'MSG'
error: Icarus Verilog (iverilog >= 11) is not installed, and this user cannot apt-get it.
  Debian/Ubuntu: sudo apt-get install iverilog gtkwave
  macOS:         brew install icarus-verilog gtkwave
  Then run the make target again.
MSG
    exit 1
  fi
fi
# gtkwave (and its fst2vcd) is optional: `make waves` needs it. Install it quietly when we can.
if ! command -v gtkwave >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[setup] installing gtkwave with apt-get (for make waves)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gtkwave >/dev/null 2>&1 \
      || echo "[setup] note: gtkwave not installed (only needed for make waves)" >&2
  fi
fi
ver=$(iverilog -V 2>/dev/null | head -n1 | sed -n 's/.*version \([0-9]*\)\..*/\1/p')
if [ -n "$ver" ] && [ "$ver" -lt 11 ]; then
  echo "error: iverilog $ver found; cocotb 2.1 needs Icarus Verilog >= 11" >&2
  exit 1
fi
