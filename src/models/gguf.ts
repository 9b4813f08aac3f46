/**
 * A small GGUF (v3) writer and reader, and the project's test models: a deterministic random-weight LLaMA with the
 * LLaMA-2 vocabulary and tiny dimensions, plus one LoRA adapter per role. No npm package writes GGUF, and llama.cpp
 * only reads it, so the fixtures the llama.cpp runtime is tested on are written here.
 *
 * Layout (llama.cpp's gguf.cpp): magic "GGUF", version 3, tensor count and KV count (u64); KV pairs (key string, value
 * type u32, value); tensor infos (name, n_dims u32, dims u64 innermost first, type u32, offset u64 from the data start);
 * padding to the alignment (general.alignment, 32); tensor data, each tensor aligned. Little-endian throughout.
 */
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { prng } from "../prng.js";
import { UserError } from "../errors.js";

export const GGUF_MAGIC = 0x46554747; // "GGUF" little-endian
export const GGUF_VERSION = 3;
export const GGUF_ALIGNMENT = 32;

const SCALAR_TYPES = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  uint64: 10,
  int64: 11,
  float64: 12,
} as const;
const ARRAY_TYPE = 9;
export type GgufScalarType = keyof typeof SCALAR_TYPES;
type ScalarValue = number | bigint | boolean | string;

/** One metadata value with its GGUF type (the type is part of the format: llama.cpp rejects a u64 where it wants u32). */
export type GgufKv = { type: GgufScalarType; value: ScalarValue } | { type: "array"; itemType: GgufScalarType; value: readonly ScalarValue[] };

/** Tensor element types this writer produces (ggml_type ids). */
export const GGML_TYPES = { F32: 0, F16: 1 } as const;
export type GgmlType = keyof typeof GGML_TYPES;

export interface GgufTensor {
  name: string;
  /** ggml order: innermost (contiguous) dimension first, e.g. a PyTorch [out, in] weight is [in, out]. */
  dims: readonly number[];
  type: GgmlType;
  /** Produced when written, so a multi-gigabyte model is never held whole. */
  values: () => Float32Array;
}

export interface GgufSpec {
  kv: Record<string, GgufKv>;
  tensors: readonly GgufTensor[];
}

const u32 = (value: number): GgufKv => ({ type: "uint32", value });
const f32 = (value: number): GgufKv => ({ type: "float32", value });
const str = (value: string): GgufKv => ({ type: "string", value });
const bool = (value: boolean): GgufKv => ({ type: "bool", value });

/** Grows a byte buffer for the header (KV + tensor infos); the tensor data is streamed separately. */
class ByteWriter {
  private buf = Buffer.alloc(1 << 16);
  length = 0;
  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  /** Append one fixed-size value written by `write` at the current end. */
  private put(size: number, write: (buf: Buffer, at: number) => unknown): void {
    this.ensure(size);
    write(this.buf, this.length);
    this.length += size;
  }
  u8(v: number) {
    this.put(1, (b, at) => b.writeUInt8(v, at));
  }
  u32(v: number) {
    this.put(4, (b, at) => b.writeUInt32LE(v, at));
  }
  u64(v: number | bigint) {
    this.put(8, (b, at) => b.writeBigUInt64LE(BigInt(v), at));
  }
  str(s: string) {
    const bytes = Buffer.from(s, "utf8");
    this.u64(bytes.length);
    this.put(bytes.length, (b, at) => bytes.copy(b, at));
  }
  scalar(type: GgufScalarType, v: ScalarValue) {
    const n = Number(v);
    switch (type) {
      case "uint8":
      case "bool":
        return this.u8(type === "bool" ? (v ? 1 : 0) : n);
      case "int8":
        return this.put(1, (b, at) => b.writeInt8(n, at));
      case "uint16":
        return this.put(2, (b, at) => b.writeUInt16LE(n, at));
      case "int16":
        return this.put(2, (b, at) => b.writeInt16LE(n, at));
      case "uint32":
        return this.u32(n);
      case "int32":
        return this.put(4, (b, at) => b.writeInt32LE(n, at));
      case "float32":
        return this.put(4, (b, at) => b.writeFloatLE(n, at));
      case "uint64":
        return this.u64(BigInt(v as number | bigint));
      case "int64":
        return this.put(8, (b, at) => b.writeBigInt64LE(BigInt(v as number | bigint), at));
      case "float64":
        return this.put(8, (b, at) => b.writeDoubleLE(n, at));
      case "string":
        return this.str(String(v));
    }
  }
  pad(alignment: number) {
    while (this.length % alignment) this.u8(0);
  }
  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

const BYTES_PER_ELEMENT: Record<GgmlType, number> = { F32: 4, F16: 2 };
const alignUp = (n: number, a: number) => Math.ceil(n / a) * a;

function elementCount(t: GgufTensor): number {
  return t.dims.reduce((a, b) => a * b, 1);
}

/** IEEE half from a float, round to nearest even (ggml's fp32→fp16 conversion for finite values). */
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

export function toHalf(value: number): number {
  scratchF32[0] = value;
  const x = scratchU32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa bumps the exponent: the correct rounding, up to infinity.
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

function tensorBytes(t: GgufTensor): Buffer {
  const values = t.values();
  const n = elementCount(t);
  if (values.length !== n) throw new UserError(`GGUF tensor ${t.name}: ${values.length} values for dims [${t.dims.join(", ")}] (${n})`);
  if (t.type === "F32") return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  const half = new Uint16Array(n);
  for (let i = 0; i < n; i++) half[i] = toHalf(values[i]!);
  return Buffer.from(half.buffer, half.byteOffset, half.byteLength); // little-endian hosts only, as llama.cpp
}

/** The header (everything before the tensor data) and each tensor's offset in the data section. */
function encodeHeader(spec: GgufSpec): { header: Buffer; offsets: number[]; alignment: number } {
  const alignKv = spec.kv["general.alignment"];
  const alignment = alignKv ? Number(alignKv.value) : GGUF_ALIGNMENT;
  const w = new ByteWriter();
  w.u32(GGUF_MAGIC);
  w.u32(GGUF_VERSION);
  w.u64(spec.tensors.length);
  const keys = Object.keys(spec.kv);
  w.u64(keys.length);
  for (const key of keys) {
    const kv = spec.kv[key]!;
    w.str(key);
    if (kv.type === "array") {
      w.u32(ARRAY_TYPE);
      w.u32(SCALAR_TYPES[kv.itemType]);
      w.u64(kv.value.length);
      for (const v of kv.value) w.scalar(kv.itemType, v);
    } else {
      w.u32(SCALAR_TYPES[kv.type]);
      w.scalar(kv.type, kv.value);
    }
  }
  const offsets: number[] = [];
  let offset = 0;
  for (const t of spec.tensors) {
    w.str(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(GGML_TYPES[t.type]);
    w.u64(offset);
    offsets.push(offset);
    offset = alignUp(offset + elementCount(t) * BYTES_PER_ELEMENT[t.type], alignment);
  }
  w.pad(alignment);
  return { header: w.bytes(), offsets, alignment };
}

/**
 * Write a GGUF v3 file, tensor by tensor.
 *
 * @example
 * writeGguf("/tmp/one.gguf", { kv: { "general.architecture": { type: "string", value: "llama" } },
 *   tensors: [{ name: "t", dims: [2], type: "F32", values: () => new Float32Array([1, 2]) }] });
 */
export function writeGguf(path: string, spec: GgufSpec): void {
  const { header, offsets, alignment } = encodeHeader(spec);
  const fd = openSync(path, "w");
  try {
    writeSync(fd, header);
    let written = 0;
    spec.tensors.forEach((t, i) => {
      if (offsets[i]! > written) writeSync(fd, Buffer.alloc(offsets[i]! - written));
      const bytes = tensorBytes(t);
      writeSync(fd, bytes);
      written = offsets[i]! + bytes.length;
    });
    const end = alignUp(written, alignment);
    if (end > written) writeSync(fd, Buffer.alloc(end - written));
  } finally {
    closeSync(fd);
  }
}

/** A parsed GGUF file: its metadata values and tensor infos (data offsets absolute in the file). */
export interface GgufInfo {
  version: number;
  kv: Record<string, unknown>;
  kvTypes: Record<string, string>;
  tensors: { name: string; dims: number[]; type: number; offset: number }[];
  dataOffset: number;
}

const SCALAR_NAMES = Object.fromEntries(Object.entries(SCALAR_TYPES).map(([k, v]) => [v, k])) as Record<number, GgufScalarType>;

/**
 * Parse a GGUF v3 header (metadata and tensor infos) from a file's bytes; throws a one-line error naming what is wrong.
 *
 * @example
 * const info = readGguf(readFileSync("tiny-llama.gguf"));
 * info.kv["general.architecture"]; // "llama"
 */
export function readGguf(bytes: Buffer): GgufInfo {
  let pos = 0;
  const need = (n: number, what: string) => {
    if (pos + n > bytes.length) throw new UserError(`GGUF truncated at byte ${pos} while reading ${what}`);
  };
  const u32 = (what: string) => (need(4, what), (pos += 4), bytes.readUInt32LE(pos - 4));
  const u64 = (what: string) => (need(8, what), (pos += 8), Number(bytes.readBigUInt64LE(pos - 8)));
  const string = (what: string) => {
    const n = u64(what);
    need(n, what);
    pos += n;
    return bytes.toString("utf8", pos - n, pos);
  };
  const scalar = (type: number, what: string): ScalarValue => {
    const read = <T>(n: number, f: (at: number) => T): T => (need(n, what), (pos += n), f(pos - n));
    switch (SCALAR_NAMES[type]) {
      case "uint8": return read(1, (a) => bytes.readUInt8(a));
      case "int8": return read(1, (a) => bytes.readInt8(a));
      case "uint16": return read(2, (a) => bytes.readUInt16LE(a));
      case "int16": return read(2, (a) => bytes.readInt16LE(a));
      case "uint32": return read(4, (a) => bytes.readUInt32LE(a));
      case "int32": return read(4, (a) => bytes.readInt32LE(a));
      case "float32": return read(4, (a) => bytes.readFloatLE(a));
      case "bool": return read(1, (a) => bytes.readUInt8(a) !== 0);
      case "string": return string(what);
      case "uint64": return read(8, (a) => bytes.readBigUInt64LE(a));
      case "int64": return read(8, (a) => bytes.readBigInt64LE(a));
      case "float64": return read(8, (a) => bytes.readDoubleLE(a));
      default: throw new UserError(`GGUF ${what}: unknown value type ${type}`);
    }
  };
  if (bytes.length < 4 || bytes.readUInt32LE(0) !== GGUF_MAGIC) throw new UserError("not a GGUF file (no GGUF magic at byte 0)");
  pos = 4;
  const version = u32("version");
  if (version !== 3) throw new UserError(`GGUF version ${version} (only 3 is read)`);
  const nTensors = u64("tensor count");
  const nKv = u64("metadata count");
  const kv: Record<string, unknown> = {};
  const kvTypes: Record<string, string> = {};
  for (let i = 0; i < nKv; i++) {
    const key = string(`metadata key ${i}`);
    const type = u32(key);
    if (type === ARRAY_TYPE) {
      const itemType = u32(key);
      const n = u64(key);
      const values: ScalarValue[] = new Array(n);
      for (let j = 0; j < n; j++) values[j] = scalar(itemType, key);
      kv[key] = values;
      kvTypes[key] = `array<${SCALAR_NAMES[itemType]}>`;
    } else {
      kv[key] = scalar(type, key);
      kvTypes[key] = SCALAR_NAMES[type]!;
    }
  }
  const tensors: GgufInfo["tensors"] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = string(`tensor ${i} name`);
    const nDims = u32(name);
    const dims = Array.from({ length: nDims }, () => u64(name));
    tensors.push({ name, dims, type: u32(name), offset: u64(name) });
  }
  const dataOffset = alignUp(pos, Number(kv["general.alignment"] ?? GGUF_ALIGNMENT));
  for (const t of tensors) t.offset += dataOffset;
  return { version, kv, kvTypes, tensors, dataOffset };
}

/** Read a GGUF file's header from disk (see {@link readGguf}). */
export function readGgufFile(path: string): GgufInfo {
  return readGguf(readFileSync(path));
}

// ---------------------------------------------------------------------------------------------------------------
// Random-weight LLaMA models

/** FNV-1a of a string, to give each tensor its own stream from one seed. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function uniform(seed: number, name: string, n: number, scale: number): () => Float32Array {
  return () => {
    const next = prng(seed ^ hash(name));
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = (next() * 2 - 1) * scale;
    return out;
  };
}

const ones = (n: number) => () => new Float32Array(n).fill(1);

export interface LlamaDims {
  nEmbd: number;
  nLayer: number;
  nHead: number;
  nHeadKv: number;
  nFf: number;
  contextLength: number;
}

/** The fixture's dimensions: a few MB with the full 32000-token vocabulary. */
export const TINY_LLAMA: LlamaDims = { nEmbd: 64, nLayer: 2, nHead: 4, nHeadKv: 4, nFf: 128, contextLength: 4096 };
/** LLaMA-2-7B's shape (for speed and memory figures: speed does not depend on the weights' values). */
export const LLAMA2_7B: LlamaDims = { nEmbd: 4096, nLayer: 32, nHead: 32, nHeadKv: 32, nFf: 11008, contextLength: 4096 };

export const TOKEN_TYPE = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

export interface LlamaVocab {
  tokens: string[];
  scores: number[];
  types: number[];
}

let vocab: Promise<LlamaVocab> | undefined;

/**
 * The LLaMA-2 vocabulary as a GGUF tokenizer, from `llama-tokenizer-js` (the tokenizer the context budget counts with).
 * llama.cpp's SentencePiece tokenizer repeatedly merges the adjacent pair whose merged token has the highest score
 * (leftmost on ties); llama-tokenizer-js merges the pair ranked first in its merge list (HF's merges, ordered by the
 * merged token's SentencePiece score). A token's score is therefore minus the best rank of a pair that makes it, so
 * both tokenizers merge in the same order. Tokens no pair makes keep score 0 (specials, bytes, single characters).
 */
export function llamaVocab(): Promise<LlamaVocab> {
  vocab ??= import("llama-tokenizer-js").then(({ default: tok }) => {
    const t = tok as unknown as { vocabById: string[]; vocabByString: Map<string, number>; merges: Map<string, number> };
    const tokens = t.vocabById.slice();
    const scores = new Array<number>(tokens.length).fill(0);
    const best = new Map<number, number>();
    for (const [pair, rank] of t.merges) {
      const id = t.vocabByString.get(pair.replace(" ", ""));
      if (id !== undefined && !(rank >= (best.get(id) ?? Infinity))) best.set(id, rank);
    }
    for (const [id, rank] of best) scores[id] = -rank;
    const types = tokens.map((s, id) =>
      id === 0 ? TOKEN_TYPE.UNKNOWN : id === 1 || id === 2 ? TOKEN_TYPE.CONTROL : /^<0x[0-9A-F]{2}>$/.test(s) ? TOKEN_TYPE.BYTE : TOKEN_TYPE.NORMAL,
    );
    return { tokens, scores, types };
  });
  return vocab;
}

export interface LlamaModelOptions {
  dims?: LlamaDims;
  seed?: number;
  /** Element type of the 2-D weights (norms stay F32, as llama.cpp wants). */
  type?: GgmlType;
  name?: string;
  /** A Jinja chat template (tokenizer.chat_template); none by default. */
  chatTemplate?: string;
}

function tensor(name: string, dims: number[], type: GgmlType, values: () => Float32Array): GgufTensor {
  return { name, dims, type, values };
}

/** A LLaMA-architecture GGUF with the LLaMA-2 vocabulary and seeded random weights. */
export async function llamaModelSpec(opts: LlamaModelOptions = {}): Promise<GgufSpec> {
  const d = opts.dims ?? TINY_LLAMA;
  const seed = opts.seed ?? 1;
  const type = opts.type ?? "F32";
  const v = await llamaVocab();
  const nVocab = v.tokens.length;
  const headDim = d.nEmbd / d.nHead;
  const nEmbdKv = headDim * d.nHeadKv;
  // Weights ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)): activations keep their scale, so logits are neither flat nor one-hot.
  const w = (name: string, nIn: number, nOut: number) => tensor(name, [nIn, nOut], type, uniform(seed, name, nIn * nOut, Math.sqrt(3 / nIn)));
  const tensors: GgufTensor[] = [
    w("token_embd.weight", d.nEmbd, nVocab),
    tensor("output_norm.weight", [d.nEmbd], "F32", ones(d.nEmbd)),
    w("output.weight", d.nEmbd, nVocab),
  ];
  for (let i = 0; i < d.nLayer; i++) {
    const b = `blk.${i}.`;
    tensors.push(
      tensor(b + "attn_norm.weight", [d.nEmbd], "F32", ones(d.nEmbd)),
      w(b + "attn_q.weight", d.nEmbd, d.nEmbd),
      w(b + "attn_k.weight", d.nEmbd, nEmbdKv),
      w(b + "attn_v.weight", d.nEmbd, nEmbdKv),
      w(b + "attn_output.weight", d.nEmbd, d.nEmbd),
      tensor(b + "ffn_norm.weight", [d.nEmbd], "F32", ones(d.nEmbd)),
      w(b + "ffn_gate.weight", d.nEmbd, d.nFf),
      w(b + "ffn_up.weight", d.nEmbd, d.nFf),
      w(b + "ffn_down.weight", d.nFf, d.nEmbd),
    );
  }
  const kv: Record<string, GgufKv> = {
    "general.architecture": str("llama"),
    "general.name": str(opts.name ?? "alpha-umi random llama"),
    "general.file_type": u32(type === "F16" ? 1 : 0),
    "general.alignment": u32(GGUF_ALIGNMENT),
    "llama.vocab_size": u32(nVocab),
    "llama.context_length": u32(d.contextLength),
    "llama.embedding_length": u32(d.nEmbd),
    "llama.block_count": u32(d.nLayer),
    "llama.feed_forward_length": u32(d.nFf),
    "llama.rope.dimension_count": u32(headDim),
    "llama.rope.freq_base": f32(10000),
    "llama.attention.head_count": u32(d.nHead),
    "llama.attention.head_count_kv": u32(d.nHeadKv),
    "llama.attention.layer_norm_rms_epsilon": f32(1e-5),
    "tokenizer.ggml.model": str("llama"),
    "tokenizer.ggml.tokens": { type: "array", itemType: "string", value: v.tokens },
    "tokenizer.ggml.scores": { type: "array", itemType: "float32", value: v.scores },
    "tokenizer.ggml.token_type": { type: "array", itemType: "int32", value: v.types },
    "tokenizer.ggml.bos_token_id": u32(1),
    "tokenizer.ggml.eos_token_id": u32(2),
    "tokenizer.ggml.unknown_token_id": u32(0),
    "tokenizer.ggml.add_bos_token": bool(true),
    "tokenizer.ggml.add_eos_token": bool(false),
    "tokenizer.ggml.add_space_prefix": bool(true),
  };
  if (opts.chatTemplate) kv["tokenizer.chat_template"] = str(opts.chatTemplate);
  return { kv, tensors };
}

export interface LoraOptions {
  dims?: LlamaDims;
  seed: number;
  rank?: number;
  alpha?: number;
  /** Adapted weights per block (llama.cpp names, without `blk.N.` and `.weight`). */
  targets?: readonly ("attn_q" | "attn_k" | "attn_v" | "attn_output")[];
  name?: string;
}

/**
 * A LoRA adapter GGUF for {@link llamaModelSpec}'s model, as llama.cpp's convert_lora_to_gguf.py writes one:
 * general.type "adapter", adapter.type "lora", adapter.lora.alpha, and per adapted weight W ([n_in, n_out] in ggml
 * order) `W.lora_a` [n_in, rank] and `W.lora_b` [rank, n_out]; llama.cpp adds (alpha / rank) · B·A·x to W·x.
 */
export function loraSpec(opts: LoraOptions): GgufSpec {
  const d = opts.dims ?? TINY_LLAMA;
  const rank = opts.rank ?? 8;
  const alpha = opts.alpha ?? 16;
  const nEmbdKv = (d.nEmbd / d.nHead) * d.nHeadKv;
  const tensors: GgufTensor[] = [];
  for (let i = 0; i < d.nLayer; i++)
    for (const target of opts.targets ?? ["attn_q", "attn_v", "attn_output"]) {
      const name = `blk.${i}.${target}.weight`;
      const nOut = target === "attn_k" || target === "attn_v" ? nEmbdKv : d.nEmbd;
      // Scaled so that (alpha/rank)·B·A is as large as W itself: the adapter visibly changes what the model says.
      tensors.push(
        tensor(name + ".lora_a", [d.nEmbd, rank], "F32", uniform(opts.seed, name + ".lora_a", d.nEmbd * rank, Math.sqrt(3 / d.nEmbd))),
        tensor(name + ".lora_b", [rank, nOut], "F32", uniform(opts.seed, name + ".lora_b", rank * nOut, Math.sqrt(3 / rank) * (rank / alpha))),
      );
    }
  return {
    kv: {
      "general.architecture": str("llama"),
      "general.type": str("adapter"),
      "general.name": str(opts.name ?? "alpha-umi random lora"),
      "general.alignment": u32(GGUF_ALIGNMENT),
      "adapter.type": str("lora"),
      "adapter.lora.alpha": f32(alpha),
    },
    tensors,
  };
}

export const FIXTURE_ROLES = ["planner", "caller", "summarizer"] as const;
export type FixtureRole = (typeof FIXTURE_ROLES)[number];

export interface Fixture {
  model: string;
  adapters: Record<FixtureRole, string>;
}

/**
 * Write the test models into `dir`: `tiny-llama.gguf` (random weights, LLaMA-2 vocabulary, 4096-token context) and
 * `tiny-lora-{planner,caller,summarizer}.gguf`. Same bytes on every run.
 *
 * @example
 * const { model, adapters } = await writeFixture("/tmp/models");
 * // llama:/tmp/models/tiny-llama.gguf+/tmp/models/tiny-lora-planner.gguf
 */
export async function writeFixture(dir: string): Promise<Fixture> {
  mkdirSync(dir, { recursive: true });
  const model = join(dir, "tiny-llama.gguf");
  // F16 for the two vocabulary-sized matrices keeps the file at a few MB.
  const spec = await llamaModelSpec({ seed: 1, name: "alpha-umi tiny random llama" });
  writeGguf(model, { ...spec, tensors: spec.tensors.map((t) => (t.name === "token_embd.weight" || t.name === "output.weight" ? { ...t, type: "F16" } : t)) });
  const adapters = {} as Record<FixtureRole, string>;
  FIXTURE_ROLES.forEach((role, i) => {
    adapters[role] = join(dir, `tiny-lora-${role}.gguf`);
    writeGguf(adapters[role], loraSpec({ seed: 100 + i, name: `alpha-umi tiny random lora (${role})` }));
  });
  return { model, adapters };
}
