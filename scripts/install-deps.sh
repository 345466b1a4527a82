#!/usr/bin/env bash
# Installs everything the tests need that cargo and Maven do not fetch themselves: Debian
# packages listed in scripts/deps/*.apt (one file per feature, one package per line, `#`
# comments) and cargo tools listed in scripts/deps/*.cargo (`crate [version]` per line).
# Idempotent: installs only what is missing. `.ci/run` calls it; run it once on a new machine
# before `cargo xtask test`, which fails naming this script when something is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

read_list() { # file -> words, comments stripped
    sed -e 's/#.*//' "$1" | tr -s ' \t' '\n' | sed '/^$/d'
}

apt_missing=()
for f in scripts/deps/*.apt; do
    [ -e "$f" ] || continue
    while read -r pkg; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
            apt_missing+=("$pkg")
        fi
    done < <(read_list "$f")
done
if [ "${#apt_missing[@]}" -gt 0 ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    echo "install-deps: apt-get install ${apt_missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${apt_missing[@]}"
fi

for f in scripts/deps/*.cargo; do
    [ -e "$f" ] || continue
    sed -e 's/#.*//' "$f" | while read -r crate version; do
        [ -n "$crate" ] || continue
        if ! cargo install --list | grep -q "^${crate} v${version:-}"; then
            echo "install-deps: cargo install ${crate} ${version:+--version $version}"
            cargo install --locked "$crate" ${version:+--version "$version"}
        fi
    done
done
echo "install-deps: ok"
