import { maskLocation, maskSecrets } from "../../src/secrets.js";

/** The one masking function, against each form a secret takes in a URL or a body (built here, not by the masker). */
const SECRET = `p/+=&?%#"<>' é\\Zq7Y~v😀`;
const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("maskSecrets", () => {
  const forms: Record<string, string> = {
    raw: SECRET,
    encodeURIComponent: encodeURIComponent(SECRET),
    "form (+ for space)": new URLSearchParams({ k: SECRET }).toString().slice(2),
    "lower-case hex": encodeURIComponent(SECRET).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
    "encoded twice": encodeURIComponent(encodeURIComponent(SECRET)),
    "encodeURI (/+= left plain)": encodeURI(SECRET),
    base64: b64(SECRET),
    base64url: Buffer.from(SECRET).toString("base64url"),
    "base64, percent-encoded": encodeURIComponent(b64(SECRET)),
    "base64 of the form-encoded value": b64(encodeURIComponent(SECRET)),
    "JSON string": JSON.stringify(SECRET).slice(1, -1),
    "JSON with \\/": JSON.stringify(SECRET).slice(1, -1).replace(/\//g, "\\/"),
    "JSON inside JSON": JSON.stringify(JSON.stringify(SECRET)).slice(3, -3),
    "JSON \\u escapes (surrogate pair too)": SECRET.split("").map((u) => `\\u${u.charCodeAt(0).toString(16).padStart(4, "0")}`).join(""),
    "HTML decimal references": [...SECRET].map((c) => `&#${c.codePointAt(0)};`).join(""),
    "HTML hex and named references": SECRET.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/\//g, "&#x2F;"),
  };

  it.each(Object.entries(forms))("%s is masked, the text around it kept", (_, form) => {
    expect(maskSecrets(`before ${form} after`, [SECRET])).toBe("before *** after");
  });

  it("inside a longer base64 value, at each alignment, only the characters that also encode other bytes are left", () => {
    for (const prefix of ["", "a", "ab", "ann:"]) {
      const masked = maskSecrets(b64(`${prefix}${SECRET}tail`), [SECRET]);
      expect(masked).toContain("***");
      const [head, tail] = masked.split("***");
      expect(head!.length).toBeLessThanOrEqual(Math.ceil((prefix.length * 8) / 6));
      expect(tail!.length).toBeLessThanOrEqual(8); // "tail" is 4 bytes: 6 characters, one shared, and padding
    }
  });

  it("several secrets and several echoes in one text; neighbours merge into one mask", () => {
    expect(maskSecrets(`a=${SECRET}&b=tok-123&c=${encodeURIComponent(SECRET)}tok-123`, [SECRET, "tok-123", ""])).toBe("a=***&b=***&c=***");
  });

  it("text without the secret, and an empty secret list, come back unchanged", () => {
    const text = '{"name":"Rex","url":"https://x.example/a?b=c%20d&e=f","html":"&lt;b&gt; \\u00e9 \\\\"}';
    expect(maskSecrets(text, [SECRET, "tok-123"])).toBe(text);
    expect(maskSecrets(SECRET, [])).toBe(SECRET);
    expect(maskSecrets(SECRET, [""])).toBe(SECRET);
  });
});

describe("maskLocation", () => {
  it("masks the password of a connection URL, only there, and leaves URLs without one", () => {
    expect(maskLocation("postgres://ann:s3cr%2Ft@db:5432/test?schema=x")).toBe("postgres://ann:***@db:5432/test?schema=x");
    expect(maskLocation("redis://:test@127.0.0.1:6379/test")).toBe("redis://:***@127.0.0.1:6379/test");
    expect(maskLocation("postgres://127.0.0.1/test")).toBe("postgres://127.0.0.1/test");
  });
});
