#!/usr/bin/env bash
# GPU figures on a machine with python3 (numpy), CMake, a C++ compiler, git and (for --gpu) nvcc: no Node, no network.
# Builds llama-server from the llama.cpp source node-llama-cpp ships (the bundle travels with the repo: 35 MB), writes a
# LLaMA-2-7B-shaped random F16 GGUF and four LoRA adapters (bench/gpu/gguf.py), drives the demo task's α-UMi and
# single-LLM calls (bench/gpu/demo.json, from bench/gpu/export.ts) with bench/gpu/client.py and writes the figures.
#   bench/gpu/run.sh                 CUDA build (sm_90), 7B shape, every layer on the GPU -> bench/results/gpu.json
#   bench/gpu/run.sh --tiny OUT      CPU build, tiny dims: an end-to-end check of the script (OUT must not be gpu.json)
# What travels to that machine (64 MiB at most): the repo's files (bench/gpu/demo.json among them, ~2 MB in all) and
# node_modules/node-llama-cpp/llama/gitRelease.bundle (35 MB); nothing else from node_modules. For example:
#   bench/gpu/run.sh && cp bench/results/gpu.json "$OUT"/
# Env: LLAMA_BUNDLE (the llama.cpp git bundle), ALPHA_UMI_CACHE (build cache), GPU_BENCH_DIR (where the GGUFs go),
#      CUDA_ARCH (default 90), GPU_BENCH_INSTANCES (default 3).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tiny=0
out="$root/bench/results/gpu.json"
if [ "${1:-}" = "--tiny" ]; then
  tiny=1
  out="${2:?--tiny needs an output path (tiny CPU figures are not GPU figures)}"
  case "$(cd "$(dirname "$out")" 2>/dev/null && pwd)/$(basename "$out")" in "$root/bench/results/gpu.json") echo "run.sh: --tiny must not write bench/results/gpu.json" >&2; exit 2 ;; esac
fi
[ -f "$here/demo.json" ] || { echo "run.sh: no $here/demo.json (run npx tsx bench/gpu/export.ts where Node is)" >&2; exit 2; }
python3 -c "import numpy" 2>/dev/null || { echo "run.sh: python3 with numpy is needed (bench/gpu/gguf.py)" >&2; exit 2; }
start=$(date +%s)
if [ $tiny = 1 ]; then
  dims=tiny; gpu=""; cmake_args=""
else
  command -v nvidia-smi >/dev/null || { echo "run.sh: no nvidia-smi: not a GPU machine (use --tiny to check the script on CPU)" >&2; exit 2; }
  dims=7b; gpu="--gpu"
  # FlashAttention kernels off: they are most of a CUDA build's time, and the demo's prompts are short.
  cmake_args="-DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=${CUDA_ARCH:-90} -DGGML_CUDA_FA=OFF -DGGML_NATIVE=OFF"
fi
echo "gpu bench: llama-server (${cmake_args:-CPU build})" >&2
server="$(LLAMA_SERVER_CMAKE_ARGS="$cmake_args" bash "$root/scripts/llama-server.sh")"
echo "gpu bench: $server ($(( $(date +%s) - start )) s)" >&2
models="${GPU_BENCH_DIR:-${TMPDIR:-/tmp}/alpha-umi-gpu-bench}/$dims"
echo "gpu bench: writing the $dims GGUF and adapters into $models" >&2
python3 "$here/gguf.py" --vocab "$here/demo.json" --dims "$dims" --out "$models" >/dev/null
echo "gpu bench: models written ($(( $(date +%s) - start )) s)" >&2
python3 "$here/client.py" --server "$server" --models "$models" --demo "$here/demo.json" --out "$out" --dims "$dims" \
  --instances "${GPU_BENCH_INSTANCES:-3}" --threads "$(nproc)" $gpu >/dev/null
echo "gpu bench: done in $(( $(date +%s) - start )) s: $out" >&2
