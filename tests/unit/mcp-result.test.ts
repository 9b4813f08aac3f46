import { base64Bytes, mcpResultText } from "../../src/tools/mcpResult.js";

/** Result shapes the reference servers do not send (audio, odd blocks): rendered by the same rules. */
describe("MCP result text", () => {
  const wav = Buffer.alloc(1234, 7).toString("base64");

  it("audio is a placeholder with its type and exact size", () => {
    expect(base64Bytes(wav)).toBe(1234);
    expect(mcpResultText({ content: [{ type: "audio", data: wav, mimeType: "audio/wav" }] })).toBe("[audio: audio/wav, 1234 bytes]");
  });

  it("a blob without a MIME type, a link without a description, an unknown block as its JSON", () => {
    expect(
      mcpResultText({
        content: [
          { type: "resource", resource: { uri: "file:///a.bin", blob: wav } },
          { type: "resource_link", uri: "file:///b.txt", name: "b.txt" },
          { type: "hologram", depth: 3 },
        ],
      }),
    ).toBe('[resource file:///a.bin: unknown type, 1234 bytes]\n[resource link file:///b.txt: b.txt]\n{"type":"hologram","depth":3}');
  });

  it("structured content: text that adds to it stays, text that repeats it (pretty JSON, a part, a string) goes", () => {
    const structuredContent = { rows: [{ id: 1 }], note: "all good" };
    const content = [
      { type: "text", text: JSON.stringify(structuredContent, null, 2) },
      { type: "text", text: '[{"id": 1}]' },
      { type: "text", text: "all good" },
      { type: "text", text: "Fetched 1 row from the archive." },
    ];
    expect(mcpResultText({ content, structuredContent })).toBe('{"rows":[{"id":1}],"note":"all good"}\nFetched 1 row from the archive.');
  });

  it("no content at all is the empty observation; a malformed content list is skipped, not thrown on", () => {
    expect(mcpResultText({})).toBe("");
    expect(mcpResultText({ content: [null, 5, { text: "no type" }, { type: "text", text: "kept" }] })).toBe("kept");
  });
});
