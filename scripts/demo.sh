#!/usr/bin/env bash
# Shows Mamori's main job on the bundled examples: a pin policy is checked, a
# legitimate chain is allowed, and a mis-issued certificate from the same
# trusted root is blocked with a TrustKit-style failure report.
set -uo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p mamori-cli || exit 2
m=target/debug/mamori
at=2027-01-01T00:00:00Z
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; echo "(exit status $?)"; }

step $m config check examples/pinning/policy.toml
step $m pin examples/pinning/chain.pem
step $m verify --config examples/pinning/policy.toml --host api.example.com \
  --chain examples/pinning/chain.pem --at $at
step $m verify --config examples/pinning/policy.toml --host api.example.com \
  --chain examples/pinning/misissued-chain.pem --at $at
exit 0
