/**
 * An MCP tool result (`CallToolResult`) as the observation text the planner reads, every content type as its server
 * meant it: text as is; an embedded resource's text (with its URI); binary data — images, audio, blob resources — as a
 * placeholder with its type and size, never base64 (4 KB of it fills an observation and tells a language model
 * nothing); resource links with their URI, name and description; structured content as its JSON once, the text blocks
 * that only repeat it (as the spec asks servers to send for older clients) left out.
 */

/** A content block of a CallToolResult (MCP 2025-06-18), as far as we read it. */
interface Block {
  type: string;
  text?: string;
  data?: string;
  mimeType?: string;
  uri?: string;
  name?: string;
  title?: string;
  description?: string;
  resource?: { uri?: string; mimeType?: string; text?: string; blob?: string };
}

export interface McpToolResult {
  content?: unknown;
  structuredContent?: unknown;
  isError?: boolean;
}

/** Bytes a base64 string decodes to, without decoding it. */
export function base64Bytes(data: string): number {
  const clean = data.replace(/\s+/g, "");
  const pad = clean.endsWith("==") ? 2 : clean.endsWith("=") ? 1 : 0;
  return Math.max(0, Math.floor((clean.length * 3) / 4) - pad);
}

const binary = (what: string, mime: string | undefined, data: string | undefined) => `[${what}: ${mime ?? "unknown type"}, ${base64Bytes(data ?? "")} bytes]`;

/** One content block as text. */
export function blockText(b: Block): string {
  switch (b.type) {
    case "text":
      return b.text ?? "";
    case "image":
    case "audio":
      return binary(b.type, b.mimeType, b.data);
    case "resource": {
      const r = b.resource ?? {};
      const where = `resource ${r.uri ?? "(no uri)"}`;
      if (typeof r.text === "string") return `[${where}${r.mimeType ? `: ${r.mimeType}` : ""}]\n${r.text}`;
      return binary(where, r.mimeType, r.blob);
    }
    case "resource_link": {
      const label = [b.title ?? b.name, b.description].filter(Boolean).join(" — ");
      return `[resource link ${b.uri ?? "(no uri)"}${label ? `: ${label}` : ""}${b.mimeType ? ` (${b.mimeType})` : ""}]`;
    }
    default:
      return JSON.stringify(b);
  }
}

/** JSON text with object keys sorted, so that two renderings of one value compare equal. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object")
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(v) ?? "null";
}

/** The structured value and every value inside it (bounded), as canonical JSON, and its strings as they are. */
function parts(value: unknown, limit = 10_000): { json: Set<string>; strings: Set<string> } {
  const json = new Set<string>();
  const strings = new Set<string>();
  const stack = [value];
  while (stack.length > 0 && json.size < limit) {
    const v = stack.pop();
    json.add(canonical(v));
    if (typeof v === "string") strings.add(v.trim());
    else if (v && typeof v === "object") stack.push(...Object.values(v as object));
  }
  return { json, strings };
}

/** Whether a text block says nothing the structured content does not: its JSON, a part's JSON, or one of its strings. */
function repeats(text: string, p: ReturnType<typeof parts>): boolean {
  const t = text.trim();
  if (p.strings.has(t)) return true;
  try {
    return p.json.has(canonical(JSON.parse(t)));
  } catch {
    return false;
  }
}

/**
 * The observation text of a result: its blocks joined by newlines, or — with structured content — its JSON and the
 * blocks that add to it.
 *
 * @example
 * mcpResultText({ content: [{ type: "text", text: '{"t": 33}' }], structuredContent: { t: 33 } }) // '{"t":33}'
 */
export function mcpResultText(result: McpToolResult): string {
  const blocks = (Array.isArray(result.content) ? result.content : []).filter((b): b is Block => !!b && typeof b === "object" && typeof (b as Block).type === "string");
  const structured = result.structuredContent;
  if (structured === undefined || structured === null) return blocks.map(blockText).join("\n");
  const p = parts(structured);
  const extra = blocks.filter((b) => b.type !== "text" || !repeats(b.text ?? "", p));
  return [JSON.stringify(structured), ...extra.map(blockText)].join("\n");
}
