#!/usr/bin/env bash
# The test command named in the README: set up, build, run every test.
# eBPF end-to-end tests run as root; with CI=true they fail instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/../.."
./scripts/dev/setup.sh
# One cargo invocation for everything: every -p subset would resolve other
# features and rebuild Polars again.
cargo test --workspace --no-fail-fast -- --test-threads=2
