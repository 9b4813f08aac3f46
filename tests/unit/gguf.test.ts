import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import llamaTokenizer from "llama-tokenizer-js";
import { GGUF_ALIGNMENT, llamaVocab, readGguf, TINY_LLAMA, toHalf, TOKEN_TYPE, writeFixture, writeGguf, type Fixture } from "../../src/models/gguf.js";

let dir: string;
let fixture: Fixture;
const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "alpha-umi-gguf-"));
  fixture = await writeFixture(join(dir, "a"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("GGUF writer", () => {
  it("writes every value type, tensor infos and aligned F32/F16 data that the reader reads back", () => {
    const path = join(dir, "types.gguf");
    const f32 = new Float32Array([1.5, -2, 3.25]);
    const f16 = new Float32Array([1, -2, 65504, 0.5, 1e-8]);
    writeGguf(path, {
      kv: {
        u8: { type: "uint8", value: 255 },
        i8: { type: "int8", value: -128 },
        u16: { type: "uint16", value: 65535 },
        i16: { type: "int16", value: -32768 },
        u32: { type: "uint32", value: 4_000_000_000 },
        i32: { type: "int32", value: -5 },
        f32: { type: "float32", value: 0.5 },
        b: { type: "bool", value: true },
        s: { type: "string", value: "héllo ▁" },
        u64: { type: "uint64", value: 2n ** 40n },
        i64: { type: "int64", value: -(2n ** 40n) },
        f64: { type: "float64", value: Math.PI },
        arr: { type: "array", itemType: "string", value: ["a", "", "</s>"] },
        nums: { type: "array", itemType: "int32", value: [1, -2, 3] },
      },
      tensors: [
        { name: "a", dims: [3], type: "F32", values: () => f32 },
        { name: "b.weight", dims: [5, 1], type: "F16", values: () => f16 },
      ],
    });
    const bytes = readFileSync(path);
    const info = readGguf(bytes);
    expect(info.version).toBe(3);
    expect(info.kv).toEqual({
      u8: 255, i8: -128, u16: 65535, i16: -32768, u32: 4_000_000_000, i32: -5, f32: 0.5, b: true, s: "héllo ▁",
      u64: 2n ** 40n, i64: -(2n ** 40n), f64: Math.PI, arr: ["a", "", "</s>"], nums: [1, -2, 3],
    });
    expect(info.kvTypes.u32).toBe("uint32");
    expect(info.kvTypes.arr).toBe("array<string>");
    expect(info.tensors.map((t) => [t.name, t.dims, t.type])).toEqual([["a", [3], 0], ["b.weight", [5, 1], 1]]);
    expect(info.dataOffset % GGUF_ALIGNMENT).toBe(0);
    for (const t of info.tensors) expect((t.offset - info.dataOffset) % GGUF_ALIGNMENT).toBe(0);
    const a = info.tensors[0]!;
    expect(Array.from(new Float32Array(bytes.buffer.slice(bytes.byteOffset + a.offset, bytes.byteOffset + a.offset + 12)))).toEqual([1.5, -2, 3.25]);
    const b = info.tensors[1]!;
    expect(Array.from({ length: 5 }, (_, i) => bytes.readUInt16LE(b.offset + 2 * i))).toEqual([0x3c00, 0xc000, 0x7bff, 0x3800, 0x0000]);
    expect(bytes.length % GGUF_ALIGNMENT).toBe(0);
  });

  it("converts to half precision with round-to-nearest-even, subnormals and overflow", () => {
    expect(toHalf(1)).toBe(0x3c00);
    expect(toHalf(-0)).toBe(0x8000);
    expect(toHalf(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(toHalf(2 ** -14)).toBe(0x0400); // smallest normal
    expect(toHalf(1 + 2 ** -11)).toBe(0x3c00); // a tie rounds to even
    expect(toHalf(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(toHalf(65520)).toBe(0x7c00); // rounds up to infinity
    expect(toHalf(NaN) & 0x7c00).toBe(0x7c00);
  });

  it("rejects what is not a GGUF, and a truncated one, with one line", () => {
    expect(() => readGguf(Buffer.from("hello"))).toThrow(/^not a GGUF file/);
    const bytes = readFileSync(fixture.model);
    expect(() => readGguf(bytes.subarray(0, 1000))).toThrow(/^GGUF truncated at byte \d+ while reading tokenizer\.ggml\.tokens$/);
  });
});

describe("fixture", () => {
  it("is byte-identical on every run (pinned hashes)", async () => {
    const again = await writeFixture(join(dir, "b"));
    for (const [x, y] of [[fixture.model, again.model], ...(["planner", "caller", "summarizer"] as const).map((r) => [fixture.adapters[r], again.adapters[r]])])
      expect(sha(x!)).toBe(sha(y!));
    expect(sha(fixture.model)).toBe("12cd46277f10232725b2154eb196fd7910961a8417e1302ac75b86a2582de58d");
    expect(sha(fixture.adapters.planner)).toBe("fd250520605725a1b3f37b2e960626c5103fcb378a2b301e684045789021817f");
    expect(statSync(fixture.model).size).toBeLessThan(10 * 2 ** 20);
  });

  it("is a LLaMA with the LLaMA-2 vocabulary, token types and special ids llama.cpp needs", () => {
    const info = readGguf(readFileSync(fixture.model));
    const kv = info.kv;
    expect(kv["general.architecture"]).toBe("llama");
    expect(kv["llama.context_length"]).toBe(4096);
    expect(kv["llama.embedding_length"]).toBe(TINY_LLAMA.nEmbd);
    expect(kv["llama.block_count"]).toBe(TINY_LLAMA.nLayer);
    expect(kv["tokenizer.ggml.model"]).toBe("llama");
    const tokens = kv["tokenizer.ggml.tokens"] as string[];
    expect(tokens).toEqual(llamaTokenizer.vocabById);
    expect(tokens).toHaveLength(32000);
    const types = kv["tokenizer.ggml.token_type"] as number[];
    expect([types[0], types[1], types[2], types[3], types[258], types[259]]).toEqual([
      TOKEN_TYPE.UNKNOWN, TOKEN_TYPE.CONTROL, TOKEN_TYPE.CONTROL, TOKEN_TYPE.BYTE, TOKEN_TYPE.BYTE, TOKEN_TYPE.NORMAL,
    ]);
    expect([tokens[3], tokens[258]]).toEqual(["<0x00>", "<0xFF>"]);
    expect([kv["tokenizer.ggml.bos_token_id"], kv["tokenizer.ggml.eos_token_id"], kv["tokenizer.ggml.unknown_token_id"]]).toEqual([1, 2, 0]);
    expect([kv["tokenizer.ggml.add_bos_token"], kv["tokenizer.ggml.add_eos_token"]]).toEqual([true, false]);
    expect(info.kvTypes["tokenizer.ggml.scores"]).toBe("array<float32>");
    const byName = new Map(info.tensors.map((t) => [t.name, t]));
    expect(byName.get("token_embd.weight")).toMatchObject({ dims: [64, 32000], type: 1 });
    expect(byName.get("blk.1.attn_q.weight")).toMatchObject({ dims: [64, 64], type: 0 });
    expect(byName.get("blk.1.ffn_down.weight")).toMatchObject({ dims: [128, 64], type: 0 });
    const last = info.tensors.at(-1)!;
    expect(statSync(fixture.model).size).toBe(Math.ceil((last.offset + last.dims.reduce((a, b) => a * b, 1) * 4) / GGUF_ALIGNMENT) * GGUF_ALIGNMENT);
  });

  it("writes LoRA adapters as convert_lora_to_gguf.py does: lora_a [n_in, r], lora_b [r, n_out]", () => {
    const info = readGguf(readFileSync(fixture.adapters.caller));
    expect(info.kv["general.type"]).toBe("adapter");
    expect(info.kv["adapter.type"]).toBe("lora");
    expect(info.kvTypes["adapter.lora.alpha"]).toBe("float32");
    const names = info.tensors.map((t) => t.name);
    expect(names).toContain("blk.0.attn_q.weight.lora_a");
    expect(names).toContain("blk.1.attn_output.weight.lora_b");
    expect(info.tensors.find((t) => t.name === "blk.0.attn_v.weight.lora_a")!.dims).toEqual([64, 8]);
    expect(info.tensors.find((t) => t.name === "blk.0.attn_v.weight.lora_b")!.dims).toEqual([8, 64]);
  });

  it("scores merge results by their best merge rank, so llama.cpp merges in llama-tokenizer-js's order", async () => {
    const v = await llamaVocab();
    const merges = (llamaTokenizer as unknown as { merges: Map<string, number> }).merges;
    const the = llamaTokenizer.vocabByString.get("▁the")!;
    const best = Math.min(...[...merges].filter(([pair]) => pair.replace(" ", "") === "▁the").map(([, rank]) => rank));
    expect(v.scores[the]).toBe(-best);
    expect([v.scores[0], v.scores[1], v.scores[13]]).toEqual([0, 0, 0]);
    // Earlier merges outrank later ones.
    expect(v.scores[llamaTokenizer.vocabByString.get("▁t")!]).toBeGreaterThan(v.scores[the]!);
  });
});
