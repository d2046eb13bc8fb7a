#!/usr/bin/env bash
# Starts the SmolLM2-135M OpenAI-compatible server (tests/smollm2/server.mjs) in the
# background from the install made by tests/smollm2/setup.sh, on a free loopback port, and
# waits until it answers /health. On success it prints
#   SIMULACRA_SMOLLM2_URL=http://127.0.0.1:PORT/v1
# as its last line of standard output (eval-able), and writes the server's PID to
# $SMOLLM2_DIR/server.pid (stop it with: kill "$(cat target/smollm2/server.pid)").
# Settings (env): SMOLLM2_DIR (default target/smollm2), SMOLLM2_PORT (default 0 = any free
# port), SMOLLM2_THREADS (default 1: fastest on a small machine, 2 threads were 9x slower
# on a busy 2-core box), SMOLLM2_WAIT (seconds to wait for /health, default 120).
# The server's log goes to $SMOLLM2_DIR/server.log.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DIR="${SMOLLM2_DIR:-$ROOT/target/smollm2}"
GGUF="$DIR/model/SmolLM2-135M-Instruct.Q4_1.gguf"
PORT="${SMOLLM2_PORT:-0}"
THREADS="${SMOLLM2_THREADS:-1}"
WAIT="${SMOLLM2_WAIT:-120}"
PID_FILE="$DIR/server.pid"
PORT_FILE="$DIR/server.port"
LOG="$DIR/server.log"

say() { echo "smollm2 serve: $*" >&2; }
fail() { say "ERROR: $*"; exit 1; }

command -v node >/dev/null 2>&1 || fail "'node' is not installed"
command -v curl >/dev/null 2>&1 || fail "'curl' is not installed"
[ -f "$GGUF" ] || fail "no model at $GGUF (run tests/smollm2/setup.sh first)"
[ -d "$DIR/runtime/node_modules/node-llama-cpp" ] \
  || fail "node-llama-cpp is not installed in $DIR/runtime (run tests/smollm2/setup.sh first)"

if [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
  say "stopping the previous server (pid $(cat "$PID_FILE"))"
  kill "$(cat "$PID_FILE")" 2>/dev/null || true
  sleep 0.5
fi
rm -f "$PID_FILE" "$PORT_FILE"

started=$(date +%s.%N)
NODE_PATH="$DIR/runtime/node_modules" nohup node "$ROOT/tests/smollm2/server.mjs" \
  --model "$GGUF" --port "$PORT" --port-file "$PORT_FILE" --threads "$THREADS" \
  >"$LOG" 2>&1 </dev/null &
pid=$!
echo "$pid" > "$PID_FILE"
say "started node (pid $pid, threads $THREADS, log $LOG)"

deadline=$(( $(date +%s) + WAIT ))
url=""
while :; do
  if ! kill -0 "$pid" 2>/dev/null; then
    tail -n 20 "$LOG" >&2 || true
    rm -f "$PID_FILE"
    fail "the server exited during start-up (log above)"
  fi
  if [ -z "$url" ] && [ -s "$PORT_FILE" ]; then
    url="http://127.0.0.1:$(tr -d '[:space:]' < "$PORT_FILE")"
  fi
  if [ -n "$url" ] && curl -fsS --max-time 2 "$url/health" >/dev/null 2>&1; then
    break
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    kill "$pid" 2>/dev/null || true
    rm -f "$PID_FILE"
    tail -n 20 "$LOG" >&2 || true
    fail "no answer from /health within ${WAIT}s (server stopped; log above)"
  fi
  sleep 0.2
done
secs=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
say "ready in ${secs}s: $url/v1 (stop with: kill \$(cat $PID_FILE))"
echo "SIMULACRA_SMOLLM2_URL=$url/v1"
