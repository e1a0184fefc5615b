#!/usr/bin/env bash
# The test command named in the README: set up, build, run every test.
# eBPF end-to-end tests run as root; with CI=true they fail instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/../.."
./scripts/dev/setup.sh
cargo build --workspace --all-targets
cargo test --workspace -- --test-threads=2
