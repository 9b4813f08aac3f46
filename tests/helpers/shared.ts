import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** The read-only shared data beside the project (never copied into it). */
export const SHARED = resolve(process.cwd(), "../shared");
export const TRAIN_EXAMPLE = join(SHARED, "data/toolbench/train-example");
export const OUT_OF_DOMAIN = join(SHARED, "data/toolbench/out_of_domain.json");
export const METRICS_DIR = join(SHARED, "data/metrics");

export function sharedAvailable(): boolean {
  return existsSync(TRAIN_EXAMPLE);
}

export function readJson<T = unknown>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}
export const TOOLALPACA_DIR = join(SHARED, "data/toolalpaca");
