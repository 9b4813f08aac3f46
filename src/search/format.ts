import type { SearchEvent, SearchNode, SearchSummary } from "./dfsdt.js";

/** `n3 (branch 2, depth 1)`: how a tree node is named in the stream and the reports. */
export function nodeLabel(n: SearchNode): string {
  return `n${n.index} (branch ${n.branch}, depth ${n.depth})`;
}

function outcome(n: SearchNode): string {
  switch (n.kind) {
    case "root":
      return "root";
    case "answer":
      return "answer";
    case "give_up":
      return "give up";
    case "failed":
      return `failed: ${n.reason ?? "model call failed"}`;
    default:
      return `${n.action ?? "none"} ${n.actionInput ?? ""}`.trim() + (n.pruned ? " (depth limit)" : "");
  }
}

/** One line per tree event, as `run --search dfsdt` prints the tree growing. */
export function formatSearchEvent(e: SearchEvent): string {
  if (e.kind === "search_end") return formatSearchEnd(e.summary);
  const n = e.node;
  const from = n.parent === null ? "" : ` ← n${n.parent}`;
  return `[tree] ${nodeLabel(n)}${from}${n.decision ? ` decision ${n.decision}` : ""}: ${outcome(n)}${n.diversity ? " [diversity turn]" : ""}${e.replayed ? " (from checkpoint)" : ""}`;
}

export function formatSearchEnd(s: SearchSummary): string {
  const at = s.answerNode === null ? "no node answered" : `answered by ${nodeLabel(s.tree[s.answerNode]!)}`;
  return `[tree] search ended (${s.stop}): ${at}; ${s.tree.length} nodes, ${s.queries} queries, ${s.modelCalls} model calls`;
}
