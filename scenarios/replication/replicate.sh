#!/usr/bin/env bash
# The README's replication table: every scenario in scenarios/replication/ swept over seeds
# 1..10 (mean +- sample std), plus the Stackelberg optimum for rational followers per seed.
# Adding a scenario (e.g. a democratic one) is adding one more file to that folder.
#
#   scenarios/replication/replicate.sh [OUT_DIR] [SEEDS]      (defaults: runs/replication, 1..10)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-runs/replication}
SEEDS=${2:-1..10}
cargo build --release --quiet
BIN=target/release/simulacra
mkdir -p "$OUT"
for f in scenarios/replication/*.toml; do
  name=$(basename "$f" .toml)
  echo "== $name ($f), seeds $SEEDS"
  start=$(date +%s.%N)
  "$BIN" sweep "$f" --seeds "$SEEDS" --out "$OUT/$name" --quiet
  end=$(date +%s.%N)
  echo "   wall $(echo "$end - $start" | bc) s"
done
echo "== Stackelberg optimum for rational followers (econ optimum, per seed)"
case "$SEEDS" in
  *..*) seeds=$(seq "${SEEDS%%..*}" "${SEEDS##*..}") ;;
  *) seeds=${SEEDS//,/ } ;;
esac
for s in $seeds; do
  echo "-- seed $s"
  "$BIN" econ optimum scenarios/replication/rational.toml --set "simulation.seed=$s"
done
