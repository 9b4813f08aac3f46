#!/usr/bin/env bash
# Makes sure a llama-server built from the llama.cpp source that node-llama-cpp ships exists, and prints its path.
# The build (about 8 minutes on 2 cores) lands in a cache outside the repo keyed by the source bundle's hash, so CI,
# tests and `alpha-umi models serve` share one build per llama.cpp version.
#   scripts/llama-server.sh            build if missing, print the binary's path on stdout (progress on stderr)
#   scripts/llama-server.sh --no-build print the path if it is built, else fail (tests: a missing build is an error)
#   ALPHA_UMI_CACHE=DIR                cache root (default: $XDG_CACHE_HOME or ~/.cache, then /alpha-umi)
#   LLAMA_SERVER_CMAKE_ARGS="..."      extra CMake flags (the GPU script passes -DGGML_CUDA=ON)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bundle="${LLAMA_BUNDLE:-$here/node_modules/node-llama-cpp/llama/gitRelease.bundle}"
[ -f "$bundle" ] || { echo "llama-server: no llama.cpp source bundle at $bundle (run npm install first)" >&2; exit 2; }
hash="$(sha256sum "$bundle" | cut -c1-16)"
root="${ALPHA_UMI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/alpha-umi}/llama-server"
dir="$root/$hash${LLAMA_SERVER_CMAKE_ARGS:+-$(echo "$LLAMA_SERVER_CMAKE_ARGS" | sha256sum | cut -c1-8)}"
bin="$dir/llama-server"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
if [ "${1:-}" = "--no-build" ]; then echo "llama-server: not built at $bin (run scripts/llama-server.sh)" >&2; exit 1; fi
mkdir -p "$root"
# One build at a time: parallel jest workers or CI steps wait for the first one instead of building twice.
exec 9>"$root/.lock"
flock -n 9 || { echo "llama-server: another build is running (lock $root/.lock); waiting for it" >&2; flock 9; }
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
work="$root/build-$hash-$$"
trap 'rm -rf "$work"' EXIT
echo "llama-server: building from $bundle into $dir (once per llama.cpp version; about 8 min on 2 cores)" >&2
git -c advice.detachedHead=false clone --quiet "$bundle" "$work/src" >&2
jobs="$(nproc)"
# LLAMA_CURL=OFF: nothing downloads models here; static libs: the binary is one file that can be copied.
cmake -S "$work/src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DBUILD_SHARED_LIBS=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF ${LLAMA_SERVER_CMAKE_ARGS:-} >"$work/cmake.log" 2>&1 \
  || { tail -30 "$work/cmake.log" >&2; exit 1; }
# Progress: one line per new percentage (CI logs are not terminals, so no carriage-return redraws).
last=""
# A failed build must say so (under `set -e -o pipefail` the pipeline would end the script silently), and its log
# must outlive the work directory.
set +e
cmake --build "$work/build" --target llama-server -j "$jobs" 2>&1 | while IFS= read -r line; do
  echo "$line" >>"$work/build.log"
  case "$line" in \[*%\]*) pct="${line%%]*}]"; [ "$pct" = "$last" ] || { echo "llama-server: building $pct" >&2; last="$pct"; } ;; esac
done
status="${PIPESTATUS[0]}"
set -e
built="$(find "$work/build" -type f -name llama-server -perm -u+x -print -quit)"
if [ "$status" != 0 ] || [ -z "$built" ]; then
  cp "$work/build.log" "$root/build-failed.log" 2>/dev/null || true
  tail -40 "$work/build.log" >&2
  echo "llama-server: build failed (exit $status; log above, kept in $root/build-failed.log)" >&2
  exit 1
fi
mkdir -p "$dir.tmp"
cp "$built" "$dir.tmp/llama-server"
rm -rf "$dir"; mv "$dir.tmp" "$dir"
echo "$bin"
