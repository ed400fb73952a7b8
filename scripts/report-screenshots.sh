#!/usr/bin/env bash
# Renders report.html of the flagship plant (flowsheets/minamitorishima.toml, `simulate --out`) and
# of the binary design example (`design --beta 2 ... --out`) in headless Chromium and saves PNG
# screenshots, for a person to look at (issue 7).
#
# Usage: scripts/report-screenshots.sh [OUT_DIR]      (default: target/screenshots)
# Environment:
#   SXPLAN_BIN     sxplan binary to use (default: build it with cargo and use target/debug/sxplan)
#   CHROMIUM       browser command (default: chromium, else chromium-browser)
# Chromium: Debian's `chromium` package. When it is missing the script installs it with apt-get
# if it runs as root on a system with apt-get; otherwise it says why and exits 0 (skipped).
# Exit codes: 0 screenshots written (or skipped without a browser), 1 a report or screenshot failed.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
out=${1:-target/screenshots}
mkdir -p "$out"
out=$(cd "$out" && pwd)

browser=${CHROMIUM:-}
if [ -z "$browser" ]; then
    for b in chromium chromium-browser; do
        if command -v "$b" >/dev/null 2>&1; then
            browser=$b
            break
        fi
    done
fi
if [ -z "$browser" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "report-screenshots: installing Debian's chromium package" >&2
        if ! { apt-get update -qq &&
               DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; then
            echo "report-screenshots: SKIPPED: apt-get could not install chromium" >&2
            exit 0
        fi
        browser=chromium
    else
        echo "report-screenshots: SKIPPED: no chromium on PATH, and installing it needs root and apt-get" >&2
        echo "report-screenshots: install it (Debian: apt-get install chromium) or set CHROMIUM=/path/to/browser" >&2
        exit 0
    fi
fi

bin=${SXPLAN_BIN:-}
if [ -z "$bin" ]; then
    cargo build -q --bin sxplan
    bin="${CARGO_TARGET_DIR:-$root/target}/debug/sxplan"
fi

status=0

# The flagship: 708 stages. It must converge: a simulation that does not (exit 1) writes no report.
rm -rf "$out/minamitorishima" "$out/binary-design"
set +e
"$bin" --quiet simulate flowsheets/minamitorishima.toml --out "$out/minamitorishima" >"$out/minamitorishima.txt"
code=$?
set -e
case $code in
    0) echo "report-screenshots: minamitorishima: simulation converged" >&2 ;;
    1) echo "report-screenshots: minamitorishima: simulation did NOT converge (exit 1, no report): $(head -1 "$out/minamitorishima.txt")" >&2; status=1 ;;
    *) echo "report-screenshots: minamitorishima: simulate failed with exit $code" >&2; status=1 ;;
esac

"$bin" --quiet design --beta 2 --feed A=0.5,B=0.5 --purity-a 0.999 --purity-b 0.9999 \
    --sensitivity --out "$out/binary-design" >/dev/null || {
    echo "report-screenshots: binary design failed" >&2
    status=1
}

for tag in minamitorishima binary-design; do
    html="$out/$tag/report.html"
    png="$out/$tag.png"
    if [ ! -f "$html" ]; then
        echo "report-screenshots: $tag: no report.html" >&2
        status=1
        continue
    fi
    profile=$(mktemp -d)
    rm -f "$png"
    # timeout: a browser that hangs must not hang CI
    timeout 180 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --hide-scrollbars --user-data-dir="$profile" --screenshot="$png" --window-size=1400,4000 \
        "file://$html" >/dev/null 2>"$out/$tag.chromium.log" || true
    rm -rf "$profile"
    if [ -s "$png" ] && [ "$(head -c 4 "$png" | od -An -tx1 | tr -d ' \n')" = 89504e47 ]; then
        echo "report-screenshots: wrote $png ($(wc -c <"$png") bytes)" >&2
    else
        echo "report-screenshots: $tag: chromium wrote no PNG (log: $out/$tag.chromium.log)" >&2
        status=1
    fi
done
exit $status
