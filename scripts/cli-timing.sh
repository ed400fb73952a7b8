#!/usr/bin/env bash
# CLI timing table for BENCHMARKS.md: median wall time of N runs of each command (release build).
# Usage: scripts/cli-timing.sh [N]   (default N = 5). Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-5}"
cargo build --release --quiet
bin=target/release/sxplan
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

run() {
  local label="$1"; shift
  local times=()
  local code=0
  for _ in $(seq "$n"); do
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >"$tmp/out" 2>"$tmp/err" || code=$?
    t1=$(date +%s.%N)
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')")
  done
  local med
  med=$(printf '%s\n' "${times[@]}" | median)
  printf '| %s | `%s` | %.3f | %s |\n' "$label" "$*" "$med" "$code"
}

echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m); date: $(date -u +%Y-%m-%d); runs per command: $n"
echo
echo "| what | command | median wall time (s) | exit code |"
echo "|---|---|---|---|"
run "check all shipped flowsheets" $bin check flowsheets/pr-nd.toml flowsheets/reflux.toml flowsheets/minamitorishima.toml
run "simulate Pr/Nd binary" $bin simulate flowsheets/pr-nd.toml
run "simulate two-circuit reflux" $bin simulate flowsheets/reflux.toml
run "simulate Minamitorishima plant" $bin simulate flowsheets/minamitorishima.toml
run "design beta 2 (99.9/99.99)" $bin design --beta 2 --feed A=0.5,B=0.5 --purity-a 0.999 --purity-b 0.9999
run "design beta 1.5 (99.99/99.99)" $bin design --beta 1.5 --feed A=0.5,B=0.5 --purity-a 0.9999 --purity-b 0.9999
run "optimize Pr/Nd binary" $bin optimize flowsheets/pr-nd.toml
run "optimize Minamitorishima (main job)" $bin optimize flowsheets/minamitorishima.toml --out "$tmp/main-job"
run "optimize two-circuit reflux" $bin optimize flowsheets/reflux.toml
run "optimize saponified mass-action circuit (3 free)" $bin optimize crates/opt/tests/data/mass_action_saponified.toml
# An uncertainty sweep: 200 of the flagship manifest's 1,000 samples, on 1 and on 2 threads.
# Each run starts from an empty directory: a rerun into the same one would resume and skip.
fresh_sweep() { local out="$1"; shift; rm -rf "$out"; "$bin" --quiet sweep flowsheets/sweeps/minamitorishima.toml --out "$out" "$@"; }
for j in 1 2; do
  run "sweep Minamitorishima, 200 samples, --jobs $j" fresh_sweep "$tmp/sweep$j" --jobs "$j" --shard 0/5
done
# The synthetic separation-factor cascades (15 REY, 3 free variables), written by the example.
cargo build --release --quiet -p sxplan-opt --example sf_toml
for s in ${SXPLAN_SF_STAGES:-100 500 1000}; do
  target/release/examples/sf_toml sf "$s" >"$tmp/sf$s.toml"
  run "optimize separation-factor cascade, $s stages, 3 free" $bin optimize "$tmp/sf$s.toml"
done
