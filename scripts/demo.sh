#!/usr/bin/env bash
# Shows Mamori's main job on the bundled examples:
# 1. pinning (DEV-4): a pin policy is checked, a legitimate chain is allowed,
#    and a mis-issued certificate from the same trusted root is blocked with a
#    TrustKit-style failure report;
# 2. audit: an Android + iOS pinning configuration pair is audited together;
# 3. device (DEV-2): an exported facts snapshot of a rooted phone is judged by
#    a bank's device policy;
# 4. report: the evidence document for the partner bank (target/evidence.html,
#    printable A4; docs/evidence-report.md).
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
step $m audit --at 2027-01-01 --fail-on never \
  examples/audit/network_security_config.xml examples/audit/Info.plist
step $m device check --facts examples/device/pixel-magisk.json \
  --policy examples/device/bank-policy.toml --at 2026-11-25
step $m report --format html --at 2026-12-01 --app "Example Bank" \
  --device examples/device/bank-policy.toml --storage examples/storage/storage-settings.toml \
  --chain api.example.com=examples/pinning/chain.pem -o target/evidence.html \
  examples/audit/network_security_config.xml examples/audit/Info.plist examples/pinning/policy.toml
exit 0
