#!/usr/bin/env bash
# A million LLM workers x 3 steps against the Rust mock (benches/mock_llm_server.rs), with
# llm.log_prompts = false: prints wall time, simulacra's CPU time and peak RSS (GNU time), the
# requests the mock served, and CPU per decision and bytes per LLM worker.
#   benches/fleet_million.sh [WORKERS] [STEPS] [extra --set args...]
set -euo pipefail
cd "$(dirname "$0")/.."
workers=${1:-1000000}; steps=${2:-3}; shift 2 || shift $# || true
cargo build --release --quiet
mock=$(cargo bench --bench mock_llm_server --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "mock_llm_server" and m.get("executable"):
        print(m["executable"])')
work=$(mktemp -d)
"$mock" --port 0 --port-file "$work/port" 2>/dev/null &
mock_pid=$!
trap 'kill "$mock_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
port=$(cat "$work/port")
/usr/bin/time -f "%e %U %S %M" -o "$work/time" ./target/release/simulacra run --quiet \
  --out "$work/run" \
  --set "simulation.num_agents=$workers" --set "simulation.timesteps=$steps" \
  --set simulation.tax_year_length=3 --set workers.policy=llm \
  --set llm.log_prompts=false --set baselines.enabled=false \
  --set "llm.base_url=\"http://127.0.0.1:$port/v1\"" "$@" >/dev/null
read -r wall user sys rss < "$work/time"
served=$(curl -s "http://127.0.0.1:$port/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests_total"])')
python3 - "$wall" "$user" "$sys" "$rss" "$served" "$workers" <<'PY'
import sys
wall, user, sys_, rss, served, workers = map(float, sys.argv[1:7])
cpu = user + sys_
print(f"workers {workers:.0f}  wall {wall:.1f} s  cpu {cpu:.1f} s (user {user:.1f}, sys {sys_:.1f})  "
      f"requests {served:.0f}  cpu/decision {1e6 * cpu / max(served, 1):.1f} us  "
      f"peak RSS {rss / 1024:.0f} MiB  bytes/worker {rss * 1024 / workers:.0f}")
PY
