#!/usr/bin/env bash
# Installs what building and testing scry needs on Debian 12: clang/LLVM and
# libbpf headers for the eBPF programs, and the real servers and clients the
# end-to-end tests drive. Idempotent; run as root (or with sudo available).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
PKGS=(clang-19 llvm-19 libbpf-dev bpftool redis-server redis-tools dnsmasq dnsutils nginx-light curl python3-pip tmux expect openssl)
missing=()
for p in "${PKGS[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The distribution's services must not hold the ports tests use.
for svc in redis-server dnsmasq nginx; do
  $SUDO systemctl stop "$svc" >/dev/null 2>&1 || $SUDO service "$svc" stop >/dev/null 2>&1 || true
done
# The Flight round-trip test drives a real pyarrow.flight client.
if ! python3 -c "import pyarrow.flight" >/dev/null 2>&1; then
  python3 -m pip install --quiet pyarrow 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages pyarrow
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo not found: install Rust (stable) first" >&2
  exit 1
fi
