#!/bin/sh
# Installs the Debian packages tcat needs to build and test, when missing.
# Run as root or with sudo available. Does nothing when all are present.
#
#   sh scripts/install-deps.sh           build and test packages
#   sh scripts/install-deps.sh --bench   also the peers the benchmarks run
set -eu

pkgs="build-essential pkg-config libicu-dev libutf8proc-dev libpcre2-dev libopenblas-serial-dev libjansson-dev libxxhash-dev check"
if [ "${1:-}" = "--bench" ]; then
    pkgs="$pkgs sentencepiece fasttext python3-sklearn python3-numpy python3-torch time"
fi

missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
else
    echo "install-deps: need root (or sudo) to install:$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >&2
