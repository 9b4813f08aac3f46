import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { MemorySaver, type BaseCheckpointSaver } from "@langchain/langgraph";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";

export const DEFAULT_CHECKPOINTS = ".alpha-umi/checkpoints.sqlite";

/** A checkpointer from a path (SQLite file, created with its folder) or `memory`. */
export function checkpointerFrom(location: string = DEFAULT_CHECKPOINTS): BaseCheckpointSaver {
  if (location === "memory") return new MemorySaver();
  const path = resolve(location.replace(/^sqlite:/, ""));
  mkdirSync(dirname(path), { recursive: true });
  return SqliteSaver.fromConnString(path);
}
