#!/usr/bin/env bash
# LLM throughput benchmark: scenario `rational` (100 LLM workers, LLM planner, 50 steps, three
# brackets) against the project's mock OpenAI-compatible server with 50 ms latency.
# Prints wall time, simulacra's CPU time (user + sys), requests, and CPU per LLM decision; with
# the mock's prefix-cache emulation on (MOCK_ARGS="--prefix-cache 2000000") also the prompt
# tokens per request, the part a prefix cache served, and the uncached rest.
#   benches/llm_mock.sh [LATENCY_MS] [extra --set args...]
# Environment: MOCK (path to mock_llm.py), MOCK_ARGS (extra mock options), SIMULACRA (a binary
# to measure instead of building target/release/simulacra).
set -euo pipefail
cd "$(dirname "$0")/.."
latency=${1:-50}; shift || true
mock=${MOCK:-../shared/bench/mock_llm.py}
[ -f "$mock" ] || { echo "mock server not found at $mock (set MOCK=path/to/mock_llm.py)"; exit 2; }
if [ -z "${SIMULACRA:-}" ]; then
  cargo build --release --quiet
  SIMULACRA=./target/release/simulacra
fi
work=$(mktemp -d)
trap 'kill "$(cat "$work/pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$work"' EXIT
python3 "$mock" --port 0 --port-file "$work/port" --pid-file "$work/pid" --latency-ms "$latency" ${MOCK_ARGS:-} >/dev/null 2>&1 &
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
port=$(cat "$work/port")
/usr/bin/time -f "%e %U %S %M" -o "$work/time" "$SIMULACRA" run scenarios/rational.toml \
  --quiet --out "$work/run" --set "llm.base_url=\"http://127.0.0.1:$port/v1\"" \
  --set baselines.enabled=false "$@" >/dev/null
read -r wall user sys rss < "$work/time"
stats=$(curl -s "http://127.0.0.1:$port/stats")
python3 - "$wall" "$user" "$sys" "$rss" "$stats" <<'PY'
import json, sys
wall, user, sys_, rss = map(float, sys.argv[1:5])
stats = json.loads(sys.argv[5])
n = stats["requests_total"]
cpu = user + sys_
print(f"wall {wall:.2f} s  cpu {cpu:.2f} s (user {user:.2f}, sys {sys_:.2f})  requests {n}  "
      f"cpu/decision {1000 * cpu / max(n, 1):.3f} ms  peak RSS {rss / 1024:.0f} MiB  "
      f"mock cpu {stats['server_cpu_s']:.2f} s  inflight peak {stats['inflight_peak']}")
if stats.get("prompt_tokens_cached_total") is not None and stats.get("prefix_cache_hit_rate"):
    tokens = stats["prompt_tokens_total"] / max(n, 1)
    cached = stats["prompt_tokens_cached_total"] / max(n, 1)
    print(f"prompt chars mean {stats['prompt_chars_mean']:.0f}  prompt tokens/request {tokens:.0f}  "
          f"cached {cached:.0f}  uncached {tokens - cached:.0f}  "
          f"hit rate {100 * stats['prefix_cache_hit_rate']:.1f} %  by kind {stats['by_kind']}")
PY
