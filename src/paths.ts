import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

/** The package root (the folder holding package.json and prompts/), found from this module so it works from src/ and dist/. */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "prompts"))) return (cached = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error(`alpha-umi: cannot find the package root (package.json + prompts/) above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}
