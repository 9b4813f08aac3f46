"""Random-weight LLaMA GGUF and LoRA adapters, written without Node (the GPU machine has python3 and numpy only).

The same layout as src/models/gguf.ts (GGUF v3, LLaMA-2 vocabulary from demo.json, F16 matrices, F32 norms, LoRA
A/B pairs as convert_lora_to_gguf.py writes them). Speed does not depend on the weights' values, so one seeded block
of uniform noise, scaled per matrix, is tiled through every matrix: a 7B file is written at disk speed.

    python3 gguf.py --vocab demo.json --dims 7b --out DIR      # DIR/base.gguf, DIR/lora-{planner,caller,summarizer,backbone}.gguf
"""
import argparse
import json
import os
import struct
import zlib

import numpy as np

ALIGN = 32
DIMS = {
    "tiny": dict(n_embd=64, n_layer=2, n_head=4, n_head_kv=4, n_ff=128, ctx=4096),
    "7b": dict(n_embd=4096, n_layer=32, n_head=32, n_head_kv=32, n_ff=11008, ctx=4096),
}
ROLES = ["planner", "caller", "summarizer", "backbone"]
T_U32, T_I32, T_F32, T_BOOL, T_STR, T_ARR = 4, 5, 6, 7, 8, 9
GGML_F32, GGML_F16 = 0, 1


def _str(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _kv(key, typ, value, item=None):
    out = _str(key) + struct.pack("<I", typ)
    if typ == T_ARR:
        out += struct.pack("<IQ", item, len(value))
        if item == T_STR:
            out += b"".join(_str(v) for v in value)
        else:
            out += np.asarray(value, dtype={T_F32: "<f4", T_I32: "<i4", T_U32: "<u4"}[item]).tobytes()
        return out
    if typ == T_STR:
        return out + _str(value)
    return out + struct.pack({T_U32: "<I", T_I32: "<i", T_F32: "<f", T_BOOL: "<?"}[typ], value)


_NOISE = np.random.default_rng(1).uniform(-1, 1, 1 << 22).astype(np.float32)


def _values(name, n, scale, ggml_type, ones=False):
    """n values: ones (norms) or the noise, rotated by a hash of the tensor's name (so adapters differ), times scale."""
    dt = "<f2" if ggml_type == GGML_F16 else "<f4"
    noise = np.roll(_NOISE, zlib.crc32(name.encode()) % _NOISE.size)
    done = 0
    while done < n:
        k = min(n - done, noise.size)
        yield (np.ones(k, dtype=np.float32) if ones else noise[:k] * scale).astype(dt).tobytes()
        done += k


def write_gguf(path, kvs, tensors):
    """kvs: list of encoded kv bytes; tensors: (name, dims, ggml_type, scale or None for ones)."""
    infos, offset = b"", 0
    for name, dims, typ, _ in tensors:
        infos += _str(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims) + struct.pack("<IQ", typ, offset)
        size = int(np.prod(dims)) * (2 if typ == GGML_F16 else 4)
        offset += (size + ALIGN - 1) // ALIGN * ALIGN
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs)) + b"".join(kvs) + infos
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(head + b"\0" * ((-len(head)) % ALIGN))
        for name, dims, typ, scale in tensors:
            n = int(np.prod(dims))
            for chunk in _values(f"{os.path.basename(path)}:{name}", n, scale or 1.0, typ, ones=scale is None):
                f.write(chunk)
            f.write(b"\0" * ((-(n * (2 if typ == GGML_F16 else 4))) % ALIGN))
    os.replace(tmp, path)


def base_model(path, d, vocab):
    n_vocab = len(vocab["tokens"])
    head_dim = d["n_embd"] // d["n_head"]
    kv_dim = head_dim * d["n_head_kv"]
    w = lambda name, n_in, n_out: (name, [n_in, n_out], GGML_F16, (3 / n_in) ** 0.5)
    norm = lambda name: (name, [d["n_embd"]], GGML_F32, None)
    tensors = [w("token_embd.weight", d["n_embd"], n_vocab), norm("output_norm.weight"), w("output.weight", d["n_embd"], n_vocab)]
    for i in range(d["n_layer"]):
        b = f"blk.{i}."
        tensors += [norm(b + "attn_norm.weight"), w(b + "attn_q.weight", d["n_embd"], d["n_embd"]), w(b + "attn_k.weight", d["n_embd"], kv_dim),
                    w(b + "attn_v.weight", d["n_embd"], kv_dim), w(b + "attn_output.weight", d["n_embd"], d["n_embd"]), norm(b + "ffn_norm.weight"),
                    w(b + "ffn_gate.weight", d["n_embd"], d["n_ff"]), w(b + "ffn_up.weight", d["n_embd"], d["n_ff"]), w(b + "ffn_down.weight", d["n_ff"], d["n_embd"])]
    kvs = [
        _kv("general.architecture", T_STR, "llama"), _kv("general.name", T_STR, "alpha-umi gpu bench random llama"),
        _kv("general.file_type", T_U32, 1), _kv("general.alignment", T_U32, ALIGN),
        _kv("llama.vocab_size", T_U32, n_vocab), _kv("llama.context_length", T_U32, d["ctx"]),
        _kv("llama.embedding_length", T_U32, d["n_embd"]), _kv("llama.block_count", T_U32, d["n_layer"]),
        _kv("llama.feed_forward_length", T_U32, d["n_ff"]), _kv("llama.rope.dimension_count", T_U32, head_dim),
        _kv("llama.rope.freq_base", T_F32, 10000.0), _kv("llama.attention.head_count", T_U32, d["n_head"]),
        _kv("llama.attention.head_count_kv", T_U32, d["n_head_kv"]), _kv("llama.attention.layer_norm_rms_epsilon", T_F32, 1e-5),
        _kv("tokenizer.ggml.model", T_STR, "llama"),
        _kv("tokenizer.ggml.tokens", T_ARR, vocab["tokens"], T_STR),
        _kv("tokenizer.ggml.scores", T_ARR, vocab["scores"], T_F32),
        _kv("tokenizer.ggml.token_type", T_ARR, vocab["types"], T_I32),
        _kv("tokenizer.ggml.bos_token_id", T_U32, 1), _kv("tokenizer.ggml.eos_token_id", T_U32, 2),
        _kv("tokenizer.ggml.unknown_token_id", T_U32, 0), _kv("tokenizer.ggml.add_bos_token", T_BOOL, True),
        _kv("tokenizer.ggml.add_eos_token", T_BOOL, False), _kv("tokenizer.ggml.add_space_prefix", T_BOOL, True),
    ]
    write_gguf(path, kvs, tensors)


def lora(path, d, role, rank=16, alpha=32.0):
    kv_dim = d["n_embd"] // d["n_head"] * d["n_head_kv"]
    tensors = []
    for i in range(d["n_layer"]):
        for target in ["attn_q", "attn_k", "attn_v", "attn_output"]:
            name = f"blk.{i}.{target}.weight"
            n_out = kv_dim if target in ("attn_k", "attn_v") else d["n_embd"]
            tensors += [(name + ".lora_a", [d["n_embd"], rank], GGML_F32, (3 / d["n_embd"]) ** 0.5),
                        (name + ".lora_b", [rank, n_out], GGML_F32, (3 / rank) ** 0.5 * rank / alpha)]
    kvs = [_kv("general.architecture", T_STR, "llama"), _kv("general.type", T_STR, "adapter"), _kv("general.name", T_STR, f"gpu bench lora ({role})"),
           _kv("general.alignment", T_U32, ALIGN), _kv("adapter.type", T_STR, "lora"), _kv("adapter.lora.alpha", T_F32, alpha)]
    write_gguf(path, kvs, tensors)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--vocab", required=True, help="demo.json (its vocab: tokens, scores, types)")
    p.add_argument("--dims", choices=sorted(DIMS), default="7b")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    with open(a.vocab, encoding="utf-8") as f:
        vocab = json.load(f)["vocab"]
    d = DIMS[a.dims]
    os.makedirs(a.out, exist_ok=True)
    base = os.path.join(a.out, "base.gguf")
    if not os.path.exists(base):
        base_model(base, d, vocab)
    for role in ROLES:
        path = os.path.join(a.out, f"lora-{role}.gguf")
        if not os.path.exists(path):
            lora(path, d, role)
    print(base)


if __name__ == "__main__":
    main()
