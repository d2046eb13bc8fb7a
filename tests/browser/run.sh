#!/usr/bin/env bash
# The viewer in a real browser: makes a small offline run, a fork of it, a democratic run, a
# recorded LLM run (LLM planner and workers) and a recorded democratic LLM run (elections,
# votes; both LLM runs against the project's mock OpenAI server on 127.0.0.1), writes each
# one's page (`simulacra view`) and serves it (`--serve`), then drives headless Chromium (and
# Firefox, when firefox-esr is installed) over them with tests/browser/check.mjs. Screenshots
# land in target/browser/shots/.
#
# Exit status: 0 passed, 77 skipped (Chromium or playwright-core could not be installed: no
# package registry), anything else failed.
# Needs: a release build (target/release/simulacra), node and npm, python3 for the LLM mock.
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=target/release/simulacra
OUT=target/browser
MOCK=../shared/bench/mock_llm.py
mkdir -p "$OUT"

# Chromium from Debian's packages.
CHROMIUM="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$CHROMIUM" ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium; } >"$OUT/apt.log" 2>&1; then
    echo "browser: cannot install chromium (see $OUT/apt.log)"
    exit 77
  fi
  CHROMIUM="$(command -v chromium)"
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "browser: node and npm are needed to drive Chromium"
  exit 77
fi
if [ ! -d "$OUT/node_modules/playwright-core" ]; then
  if ! (cd "$OUT" && npm install --no-audit --no-fund --silent playwright-core@1) >"$OUT/npm.log" 2>&1; then
    echo "browser: cannot install playwright-core from npm (see $OUT/npm.log)"
    exit 77
  fi
fi

# Firefox too, when Debian's firefox-esr is installed (not installed here: Chromium is the
# stage's browser) and puppeteer-core (WebDriver BiDi) can be fetched.
FIREFOX="$(command -v firefox-esr || true)"
if [ -n "$FIREFOX" ] && [ ! -d "$OUT/node_modules/puppeteer-core" ]; then
  (cd "$OUT" && npm install --no-audit --no-fund --silent puppeteer-core@24) >>"$OUT/npm.log" 2>&1 || FIREFOX=""
fi
[ -n "$FIREFOX" ] || echo "browser: firefox-esr not installed: Chromium only"

RUNS="$OUT/runs"
rm -rf "$RUNS"
mkdir -p "$RUNS"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

echo "== runs"
"$BIN" run --quiet --out "$RUNS/offline" \
  --set simulation.num_agents=60 --set simulation.timesteps=200 --set simulation.tax_year_length=20 >/dev/null
"$BIN" fork "$RUNS/offline" --at 100 --set planner.policy=saez --out "$RUNS/fork" >/dev/null
"$BIN" run scenarios/democratic.toml --quiet --out "$RUNS/democratic" \
  --set simulation.num_agents=40 --set simulation.timesteps=150 >/dev/null
"$BIN" run scenarios/federation.toml --quiet --out "$RUNS/federation" \
  --set simulation.num_agents=60 --set simulation.timesteps=200 --set simulation.tax_year_length=20 >/dev/null
# The same federation with a local public good whose mean taste differs between the regions.
"$BIN" run scenarios/federation.toml --quiet --out "$RUNS/federation-goods" \
  --set simulation.num_agents=60 --set simulation.timesteps=200 --set simulation.tax_year_length=20 \
  --set 'federation.public_good="local"' \
  --set 'federation.region=[{share = 0.5, public_good_taste = 200.0, governance = "election", rule = "plurality", term_years = 2}, {share = 0.5, public_good_taste = 20.0, planner = "hill-climb", governance = "planner"}]' >/dev/null
if [ ! -f "$MOCK" ]; then MOCK=/work/shared/bench/mock_llm.py; fi
python3 "$MOCK" --port 0 --port-file "$OUT/mock.port" >"$OUT/mock.log" 2>&1 &
MOCK_PID=$!
PIDS+=("$MOCK_PID")
for _ in $(seq 100); do [ -s "$OUT/mock.port" ] && break; sleep 0.1; done
PORT="$(cat "$OUT/mock.port")"
"$BIN" run --quiet --out "$RUNS/llm" \
  --set workers.policy=llm --set planner.policy=llm \
  --set simulation.num_agents=6 --set simulation.timesteps=12 --set simulation.tax_year_length=4 \
  --set "llm.base_url=\"http://127.0.0.1:$PORT/v1\"" --set llm.backoff_ms=1 >/dev/null
"$BIN" run scenarios/democratic-llm.toml --quiet --out "$RUNS/llm-democratic" \
  --set simulation.num_agents=8 --set simulation.timesteps=8 --set simulation.tax_year_length=4 \
  --set "llm.base_url=\"http://127.0.0.1:$PORT/v1\"" --set llm.backoff_ms=1 >/dev/null
kill "$MOCK_PID"
rm -f "$OUT/mock.port"

echo "== pages"
CASES=""
serve() { # serve NAME RUN [--compare OTHER]: starts a server, adds its case
  local name=$1 run=$2
  shift 2
  "$BIN" view "$run" --serve --port 0 "$@" >"$OUT/serve-$name.log" 2>&1 &
  PIDS+=("$!")
  local url=""
  for _ in $(seq 300); do
    url="$(sed -n 's/^serving \(http[^ ]*\).*/\1/p' "$OUT/serve-$name.log")"
    [ -n "$url" ] && break
    sleep 0.1
  done
  [ -n "$url" ] || { echo "the server for $name did not start:"; cat "$OUT/serve-$name.log"; exit 1; }
  CASES="$CASES{\"name\":\"$name-served\",\"run\":\"$run\",\"url\":\"${url}index.html\",\"compare\":$([ $# -gt 0 ] && echo true || echo false),\"regions\":$(case "$name" in federation*) echo true ;; *) echo false ;; esac)},"
}
for name in offline democratic llm llm-democratic federation federation-goods; do
  "$BIN" view "$RUNS/$name" >/dev/null
  regions=$(case "$name" in federation*) echo true ;; *) echo false ;; esac)
  CASES="$CASES{\"name\":\"$name-file\",\"run\":\"$RUNS/$name\",\"url\":\"file://$PWD/$RUNS/$name/view/index.html\",\"compare\":false,\"regions\":$regions},"
  serve "$name" "$RUNS/$name"
done
"$BIN" view "$RUNS/fork" --compare "$RUNS/offline" >/dev/null
CASES="$CASES{\"name\":\"fork-file\",\"run\":\"$RUNS/fork\",\"url\":\"file://$PWD/$RUNS/fork/view/index.html\",\"compare\":true},"
serve fork "$RUNS/fork" --compare "$RUNS/offline"

cat >"$OUT/config.json" <<JSON
{"bin": "$BIN", "chromium": "$CHROMIUM", "firefox": "$FIREFOX", "modules": "$OUT/node_modules", "shots": "$OUT/shots",
 "cases": [${CASES%,}]}
JSON
echo "== Chromium"
node tests/browser/check.mjs "$OUT/config.json"
