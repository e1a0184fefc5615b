#!/usr/bin/env bash
# The README's main job: set up, build, then capture 10 s of live traffic
# while redis-cli talks to a local redis-server, and run px/redis_data over
# what was captured. Needs root (the eBPF probes).
set -euo pipefail
cd "$(dirname "$0")/../.."
./scripts/dev/setup.sh
# Build exactly what the tests build (same features, same profile): Polars,
# the slowest part, is then built once for both README commands.
cargo test --workspace --no-run
port=16379
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
  --pidfile /tmp/scry-demo-redis.pid >/dev/null
trap 'kill "$(cat /tmp/scry-demo-redis.pid 2>/dev/null)" 2>/dev/null || true' EXIT
(
  sleep 3
  for i in $(seq 1 20); do
    redis-cli -p "$port" SET "demo:$i" "value $i" >/dev/null
    redis-cli -p "$port" GET "demo:$i" >/dev/null
    redis-cli -p "$port" INCR demo:counter >/dev/null
  done
) &
./target/debug/scry run px/redis_data --capture 10s --format table -- --start_time=-1m
wait
