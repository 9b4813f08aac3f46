"""Drives llama-server with the demo task's α-UMi and single-LLM calls and writes the GPU figures (stdlib only).

One server holds the base and four LoRA adapters (planner, caller, summarizer, backbone: both sides pay for an
adapter), one slot per role (pinned with id_slot, so each keeps its role's prompt cache). Every call sends the prompt
as the graph sent it (tools/demo/cassette.jsonl, via demo.json) with the reply forced to the recorded reply's length
in tokens (ignore_eos, n_predict). α-UMi's eight calls and the backbone's four make one instance each; instances
alternate after one warm-up each, from erased slots. Memory: one server with the base, three adapters and three slots
against one server with the base and one slot (three models are three of them): VRAM on a GPU, RSS on CPU.

    python3 client.py --server BIN --models DIR --demo demo.json --out gpu.json [--gpu] [--instances 3] [--threads N]
"""
import argparse
import datetime
import json
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

ROLES = ["planner", "caller", "summarizer", "backbone"]
ALPHA_UMI = ROLES[:3]
PAPER_7B_S = 6.27
NUM_CTX = 4096


def log(msg):
    print(f"gpu bench: {msg}", file=sys.stderr, flush=True)


def post(url, body):
    req = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=600) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{url}: HTTP {e.code} {e.read()[:300]!r}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, base, adapters, slots, gpu, threads):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [binary, "-m", base, "--host", "127.0.0.1", "--port", str(self.port), "-np", str(slots), "-c", str(NUM_CTX * slots),
                "-ngl", "999" if gpu else "0", "--threads", str(threads), "--threads-batch", str(threads), "--no-webui",
                # Erasing a slot between instances (POST /slots/N?action=erase) is only served with a slot save path.
                "--slot-save-path", os.path.dirname(os.path.abspath(base))]
        for a in adapters:
            args += ["--lora", a]
        if adapters:
            args.append("--lora-init-without-apply")
        self.log = open(os.path.join(os.path.dirname(base), f"server-{self.port}.log"), "wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 600
        while True:
            if self.proc.poll() is not None:
                self.log.flush()
                tail = open(self.log.name, "rb").read()[-1500:].decode(errors="replace")
                raise SystemExit(f"llama-server exited while loading {base}:\n{tail}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if time.time() > deadline:
                self.stop()
                raise SystemExit("llama-server did not become healthy within 600 s")
            time.sleep(0.2)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def memory_of(pid, gpu):
    if gpu:
        out = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            p, used = [x.strip() for x in line.split(",")]
            if int(p) == pid:
                return int(used) * 2**20
        raise SystemExit(f"nvidia-smi lists no memory for llama-server pid {pid}:\n{out}")
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise SystemExit(f"no VmRSS for pid {pid}")


def device_name(gpu):
    if gpu:
        return subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True, check=True).stdout.strip().splitlines()[0]
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return f"CPU: {line.split(':', 1)[1].strip()}"
    except OSError:
        pass
    return f"CPU: {platform.processor() or platform.machine()}"


def common_prefix(a, b):
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def minimum_tokens(calls):
    """Prompt tokens perfect prefix reuse evaluates: each role's prompts, less what an earlier one of that role shares."""
    total = 0
    for i, c in enumerate(calls):
        shared = max([common_prefix(e["tokens"], c["tokens"]) for e in calls[:i] if e["role"] == c["role"]] or [0])
        total += len(c["tokens"]) - shared
    return total


def instance(server, calls, figures):
    for slot in range(len(ROLES)):
        post(f"{server.url}/slots/{slot}?action=erase", {})
    prompt_tokens = 0
    start = time.perf_counter()
    for c in calls:
        k = ROLES.index(c["role"])
        r = post(f"{server.url}/completion", {
            "prompt": c["prompt"], "n_predict": c["outputTokens"], "ignore_eos": True, "temperature": 0, "cache_prompt": True,
            "id_slot": k, "lora": [{"id": i, "scale": 1 if i == k else 0} for i in range(len(ROLES))],
        })
        if r.get("tokens_predicted") != c["outputTokens"]:
            raise SystemExit(f"llama-server generated {r.get('tokens_predicted')} tokens, asked for {c['outputTokens']}")
        t = r["timings"]
        prompt_tokens += t["prompt_n"]
        if figures is not None:
            f = figures.setdefault(c["role"], {"calls": 0, "promptTokens": 0, "outputTokens": 0, "promptMs": 0.0, "outputMs": 0.0})
            f["calls"] += 1
            f["promptTokens"] += t["prompt_n"]
            f["outputTokens"] += t["predicted_n"]
            f["promptMs"] += t["prompt_ms"]
            f["outputMs"] += t["predicted_ms"]
    return time.perf_counter() - start, prompt_tokens


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--server", required=True, help="the llama-server binary")
    p.add_argument("--models", required=True, help="the directory gguf.py wrote")
    p.add_argument("--demo", required=True, help="demo.json (bench/gpu/export.ts)")
    p.add_argument("--out", required=True)
    p.add_argument("--gpu", action="store_true", help="offload every layer and measure VRAM (else CPU and RSS)")
    p.add_argument("--instances", type=int, default=3)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--dims", default="7b")
    a = p.parse_args()
    with open(a.demo, encoding="utf-8") as f:
        calls = json.load(f)["calls"]
    base = os.path.join(a.models, "base.gguf")
    adapters = [os.path.join(a.models, f"lora-{r}.gguf") for r in ROLES]
    alpha = [c for c in calls if c["role"] in ALPHA_UMI]
    single = [c for c in calls if c["role"] == "backbone"]

    log(f"llama-server: base + 4 adapters, {len(ROLES)} slots, {'GPU' if a.gpu else 'CPU'}, {a.threads} threads")
    server = Server(a.server, base, adapters, len(ROLES), a.gpu, a.threads)
    try:
        with urllib.request.urlopen(f"{server.url}/props", timeout=10) as r:
            props = json.load(r)
        for c in calls:
            c["tokens"] = post(f"{server.url}/tokenize", {"content": c["prompt"], "add_special": True})["tokens"]
        seconds = {"alphaUmi": [], "singleLlm": []}
        tokens = {"alphaUmi": [], "singleLlm": []}
        figures = {}
        for i in range(a.instances + 1):
            for side, cs in (("alphaUmi", alpha), ("singleLlm", single)):
                s, t = instance(server, cs, figures if i > 0 else None)
                log(f"{'warm-up' if i == 0 else f'instance {i}'} {side}: {s:.2f} s, {t} prompt tokens evaluated")
                if i > 0:
                    seconds[side].append(s)
                    tokens[side].append(t)
    finally:
        server.stop()

    def shared_and_one():
        out = []
        for ads, slots in ((adapters[:3], 3), ([], 1)):
            s = Server(a.server, base, ads, slots, a.gpu, a.threads)
            try:
                post(f"{s.url}/completion", {"prompt": alpha[0]["prompt"], "n_predict": 1})
                out.append(memory_of(s.proc.pid, a.gpu))
            finally:
                s.stop()
        return out

    shared, one = shared_and_one()
    mean = lambda xs: sum(xs) / len(xs)
    alpha_s, single_s = mean(seconds["alphaUmi"]), mean(seconds["singleLlm"])
    minimum, single_minimum = minimum_tokens(alpha), minimum_tokens(single)
    results = {
        "device": device_name(a.gpu),
        "gpu": a.gpu,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "dims": a.dims,
        "engine": f"llama-server {props.get('build_info', '')}".strip(),
        "threads": a.threads,
        "instances": a.instances,
        "weights": "random F16 (tiled seeded noise); LoRA rank 16 on attn_q/k/v/output, one per role and one for the backbone",
        "secondsPerInstance": {"alphaUmi": alpha_s, "singleLlm": single_s, "ratio": alpha_s / single_s, "paperAlphaUmi7B": PAPER_7B_S,
                               "alphaUmiRuns": seconds["alphaUmi"], "singleLlmRuns": seconds["singleLlm"]},
        "promptTokens": {"alphaUmi": mean(tokens["alphaUmi"]), "alphaUmiMinimum": minimum, "ratio": mean(tokens["alphaUmi"]) / minimum,
                         "singleLlm": mean(tokens["singleLlm"]), "singleLlmMinimum": single_minimum},
        "roles": {role: {"calls": f["calls"] / a.instances, "promptTokens": f["promptTokens"] / a.instances, "outputTokens": f["outputTokens"] / a.instances,
                         "promptTokensPerSecond": f["promptTokens"] / f["promptMs"] * 1000 if f["promptMs"] else None,
                         "outputTokensPerSecond": f["outputTokens"] / f["outputMs"] * 1000 if f["outputMs"] else None}
                  for role, f in figures.items()},
        "memory": {"kind": "vram" if a.gpu else "rss", "baseAndThreeAdaptersBytes": shared, "threeModelsBytes": 3 * one, "ratio": shared / (3 * one)},
    }
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    print(json.dumps(results, indent=2))
    log(f"wrote {a.out}")


if __name__ == "__main__":
    main()
