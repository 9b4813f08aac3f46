/**
 * DFSDT (ToolBench's `DFS_woFilter_w2`) as a search over LangGraph checkpoints. Every tree node is a checkpoint of ONE
 * thread; a child is a fork of the thread at its parent's checkpoint (`invoke(null, {checkpoint_id})`), and the
 * diversity turn is a `graph.updateState` fork. The driver steps the graph one node at a time (`interruptAfter` every
 * node), so each planner step, call and observation is its own checkpoint, browsable in Studio's history.
 *
 * Nothing but the checkpoints records the search: a resumed search replays the same depth-first walk over the
 * thread's history, reusing every checkpoint that exists (a completed tool call is never run again) and running
 * only what is missing. The walk is deterministic given the checkpoints, so a killed search ends with the same tree.
 *
 * A chain that waits on an interrupt (a call waiting for approval, a tool's own question) is asked like a run is
 * (`ask`); without an answer the search stops there, waiting, and a later search on the thread replays the tree to that
 * checkpoint and asks again.
 */
import { Command, INTERRUPT, isInterrupted, type BaseCheckpointSaver, type Interrupt, type StateSnapshot } from "@langchain/langgraph";
import { threadGraph } from "../threadDriver.js";
import type { AlphaUmiGraph, GraphOptions } from "../graph.js";
import type { Role, RoleModel } from "../models/generate.js";
import { modelFromSpec } from "../models/spec.js";
import { parseCaller, withDecision } from "../protocol/index.js";
import { cutObservation, GIVE_UP_CANDIDATE, renderDiversityTurn, type DiversityCandidate } from "../protocol/diversity.js";
import type { AgentStateType, AgentUpdate, Decision, Turn } from "../state.js";
import type { ToolSpec } from "../tools/spec.js";
import { UserError } from "../errors.js";

export type SearchKind = "react" | "dfsdt";

/** DFSDT settings; the defaults are ToolBench's. */
export interface SearchOptions {
  search: SearchKind;
  /** Children per node (`tree_beam_size`, 2). */
  beam?: number;
  /** Planner steps per chain (`single_chain_max_step` 12 tree nodes = 4 steps). */
  chainSteps?: number;
  /** Model queries (planner + caller or summarizer) for the whole search (`max_query_count`, 200). */
  maxQueries?: number;
  /** Observations are cut to this many characters plus `...` (1024). */
  observationChars?: number;
  /**
   * Hide the diversity turn from every call but the step it asks for, as ToolBench does. Default false: the turn stays
   * in the branch's τ (and so in later histories and exported training dialogs), as α-UMi's fork does.
   */
  hideDiversity?: boolean;
  /** Planner attempts when its output is empty, `.` or `,` (5). */
  plannerAttempts?: number;
  /** Planner temperature for Ollama models (0.5, the reference's live setting). */
  plannerTemperature?: number;
}

export const SEARCH_DEFAULTS = { beam: 2, chainSteps: 4, maxQueries: 200, observationChars: 1024, plannerAttempts: 5, plannerTemperature: 0.5 };

export type NodeKind = "root" | "step" | "answer" | "give_up" | "failed";

/** One node of the search tree: a checkpoint at a planner-step boundary. */
export interface SearchNode {
  /** Creation order, 0 = root. */
  index: number;
  checkpointId: string;
  parent: number | null;
  /** Planner steps from the root. */
  depth: number;
  /** Which chain of the search made it: 1 for the first, +1 each time a node gets another child. */
  branch: number;
  kind: NodeKind;
  decision: Decision | null;
  plan?: string;
  action?: string;
  actionInput?: string;
  observation?: string;
  answer?: string;
  reason?: string;
  /** Whether the step was asked for with the diversity turn. */
  diversity: boolean;
  /** Cut off: a give-up, a failed model call, or the depth limit. */
  pruned: boolean;
  children: number[];
}

/** `waiting`: a chain waits on an interrupt that got no answer (see `SearchSummary.waiting`). */
export type SearchStop = "answer" | "exhausted" | "max_queries" | "waiting";

/** An interrupt a chain of the tree waits on: its value as the α-UMi graph raised it, and where it was raised. */
export interface SearchQuestion {
  /** An approval request or a tool's own question, as it is (src/approval.ts). */
  value: unknown;
  /** The interrupt's id: each question asked (a second one after an answer not taken too) has its own. */
  interruptId: string;
  /** The search thread's checkpoint that waits. */
  checkpointId: string;
}

export interface SearchSummary {
  kind: "dfsdt";
  tree: SearchNode[];
  /** The node that answered (the first terminal node), or null. */
  answerNode: number | null;
  /** Null while the search waits for an answer. */
  finishType: "give_answer" | "give_up" | null;
  answer: string | null;
  stop: SearchStop;
  /** Expansions (one query = planner, then caller or summarizer). */
  queries: number;
  /** Model calls recorded in the thread's checkpoints (planner retries included). */
  modelCalls: number;
  /** With stop `waiting`: what the search waits on; the same search, resumed with an answer, goes on from there. */
  waiting?: SearchQuestion;
}

/** Streamed as the tree grows; `replayed` nodes came from checkpoints of an earlier, interrupted search. */
export type SearchEvent = { kind: "search"; node: SearchNode; replayed: boolean } | { kind: "search_end"; summary: SearchSummary };

/**
 * A graph's options (see `createAlphaUmiGraph`) with the search settings; `threadId` names the one thread the tree
 * lives in. `runAgent` passes its options here with `search: dfsdt` (the search is below the run driver, so it names
 * the graph's options, not the run's).
 */
export type SearchRunOptions = Omit<GraphOptions, "tools" | "models" | "checkpointer"> &
  Omit<SearchOptions, "search"> & {
    instruction?: string;
    tools: ToolSpec[];
    /** Spec string or model per role, as `runAgent` takes them. */
    models: Partial<Record<Role, string | RoleModel>>;
    checkpointer: BaseCheckpointSaver;
    threadId: string;
    search?: SearchKind;
    /** The paper's single-LLM baseline (backbone) instead of α-UMi. */
    singleLlm?: boolean;
    /** Also write every (prompt, output) to this replay cassette. */
    record?: string;
    signal?: AbortSignal;
    /**
     * Answers what a chain waits on (an approval request under `approve`, or a tool's own `interrupt()`), as `runAgent`'s
     * `ask`; undefined (or no `ask`) stops the search there, waiting (`stop: "waiting"`).
     */
    ask?: (question: unknown, where: Omit<SearchQuestion, "value">) => Promise<unknown>;
  };

export type SearchRunEvent = SearchEvent | { kind: "turn"; turn: Turn; node: string } | { kind: "start"; threadId: string; resumed: boolean };

const MODEL_NODES = new Set(["planner", "caller", "summarizer", "backbone"]);
const EMPTY_PLAN = withDecision("none", "caller");

/** Tools whose results are cut as DFSDT cuts observations. */
function cuttingTools(tools: readonly ToolSpec[], max: number): ToolSpec[] {
  return tools.map((t) => ({
    ...t,
    run: async (args, ctx) => {
      const out: unknown = await t.run(args, ctx);
      return cutObservation(typeof out === "string" ? out : (JSON.stringify(out) ?? ""), max);
    },
  }));
}

const idOf = (s: StateSnapshot) => s.config.configurable!.checkpoint_id as string;
const parentIdOf = (s: StateSnapshot) => s.parentConfig?.configurable?.checkpoint_id as string | undefined;
const sourceOf = (s: StateSnapshot) => (s.metadata as { source?: string } | undefined)?.source;
const valuesOf = (s: StateSnapshot) => s.values as AgentStateType;

/**
 * Run (or resume) a DFSDT search on one thread. Resuming replays the walk over the thread's checkpoints.
 *
 * @example
 * const models = scriptedRoles({ planner: ["Look.\n Next: caller.", "Done.\n Next: conclusion."], caller: ["Action: t\nAction Input: {}"], summarizer: ["42"] });
 * const { search } = await searchAgent({ instruction: "Q?", tools, models, checkpointer: new MemorySaver(), threadId: "s1" });
 * search.answer; // "42"
 */
export async function searchAgent(
  opts: SearchRunOptions,
  onEvent: (e: SearchRunEvent) => void = () => undefined,
): Promise<{ threadId: string; state: AgentStateType; search: SearchSummary }> {
  const o = { ...SEARCH_DEFAULTS, ...definedOnly(opts) };
  // Everything else of the run's options (templates, context policy, timeouts…) is the graph's; search keys are ignored there.
  const { instruction, tools, models, singleLlm, record, threadId, signal, ask, search: _search, ...graphOpts } = opts;
  // The search planner samples (temperature 0.5) where its provider takes a temperature.
  const planner = typeof models.planner === "string" ? modelFromSpec(models.planner, "planner", { numCtx: opts.numCtx, temperature: o.plannerTemperature }) : models.planner;
  const graph = threadGraph({
    ...graphOpts,
    singleLlm,
    record,
    tools: cuttingTools(tools, o.observationChars),
    models: { ...models, ...(planner ? { planner } : {}) },
    // Depth is the driver's to limit; the planner's own budget must never give up first.
    maxSteps: o.chainSteps + 1,
    maxObservationChars: Math.max(4096, o.observationChars + 3),
  });
  return new Dfsdt(graph, threadId, o, !!singleLlm, signal, ask, onEvent).run(instruction);
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

type Graph = Pick<AlphaUmiGraph, "invoke" | "getState" | "getStateHistory" | "updateState">;

/** The search stops: a chain waits on a question that got no answer. */
class Waiting {
  constructor(readonly question: SearchQuestion) {}
}

function firstInterrupt(interrupts: readonly Interrupt[] | undefined, at: StateSnapshot): SearchQuestion | undefined {
  const i = interrupts?.[0];
  return i && { value: i.value, interruptId: i.id ?? "", checkpointId: idOf(at) };
}

/** What a checkpoint waits on, as its history (or state) read shows it. */
const askedAt = (s: StateSnapshot) => firstInterrupt(s.tasks.flatMap((t) => t.interrupts ?? []), s);

class Dfsdt {
  private readonly byId = new Map<string, StateSnapshot>();
  private readonly kids = new Map<string, StateSnapshot[]>();
  private readonly tree: SearchNode[] = [];
  private readonly stepStart: string;
  private queries = 0;
  private branches = 1;
  private answerNode: number | null = null;
  private stop: SearchStop = "exhausted";
  private readonly thread: { configurable: { thread_id: string } };
  /** The step being expanded: τ's length at its node, and how many of its turns are shown already. */
  private step = { base: 0, shown: 0 };

  constructor(
    private readonly graph: Graph,
    private readonly threadId: string,
    private readonly o: typeof SEARCH_DEFAULTS & Omit<SearchOptions, "search">,
    singleLlm: boolean,
    private readonly signal: AbortSignal | undefined,
    private readonly ask: SearchRunOptions["ask"],
    private readonly onEvent: (e: SearchRunEvent) => void,
  ) {
    this.stepStart = singleLlm ? "backbone" : "planner";
    this.thread = { configurable: { thread_id: threadId } };
  }

  private index(s: StateSnapshot): StateSnapshot {
    const id = idOf(s);
    if (this.byId.has(id)) return this.byId.get(id)!;
    this.byId.set(id, s);
    const parent = parentIdOf(s);
    if (parent) {
      const list = this.kids.get(parent) ?? [];
      list.push(s);
      list.sort((a, b) => (idOf(a) < idOf(b) ? -1 : 1));
      this.kids.set(parent, list);
    }
    return s;
  }

  private children(s: StateSnapshot, source: "loop" | "update"): StateSnapshot[] {
    return (this.kids.get(idOf(s)) ?? []).filter((c) => sourceOf(c) === source);
  }

  /**
   * Run one graph node from checkpoint `s` (a fork when `s` already has children); returns the new checkpoint. A node
   * that stops on an interrupt writes no checkpoint: the question is asked, and the node runs again with the answer
   * (`Command({resume})` at `s`), until it completes; with no answer the search stops (Waiting).
   */
  private async invokeFrom(s: StateSnapshot | null, input: AgentUpdate | null = null): Promise<StateSnapshot> {
    const config = s ? s.config : this.thread;
    // A checkpoint read from the history of an earlier search may already wait: it is asked, not run again unanswered.
    let at = s;
    let asked = s ? askedAt(s) : undefined;
    let next: AgentUpdate | Command | null = input;
    for (;;) {
      if (asked) {
        // The person sees the step so far (the plan and the call) before the question, as in a run.
        this.show(valuesOf(at!).turns);
        const { value, ...where } = asked;
        const answer = await this.ask?.(value, where);
        if (answer === undefined) throw new Waiting(asked);
        next = new Command({ resume: answer });
      }
      const interrupts = await this.invokeNode(next, config);
      if (!interrupts.length) break;
      // The checkpoint that waits: `s`, or the one a first input wrote.
      at ??= await this.graph.getState(this.thread);
      asked = firstInterrupt(interrupts, at);
    }
    return this.index(await this.graph.getState(this.thread));
  }

  /** One graph node from `config`; returns the interrupts it stopped on (none when it completed). */
  private async invokeNode(input: AgentUpdate | Command | null, config: StateSnapshot["config"]): Promise<Interrupt[]> {
    // One signal per invocation, tied to the search's: LangGraph leaves a listener on each signal it is given, and a
    // search invokes the graph once per node.
    const step = new AbortController();
    const stop = () => step.abort(this.signal?.reason);
    if (this.signal?.aborted) stop();
    else this.signal?.addEventListener("abort", stop, { once: true });
    try {
      const out: unknown = await this.graph.invoke(input, { ...config, interruptAfter: "*", signal: step.signal });
      return isInterrupted(out) ? out[INTERRUPT] : [];
    } finally {
      this.signal?.removeEventListener("abort", stop);
    }
  }

  /** The current step's turns not shown yet: those of τ past the step's node (`base`), or of the step's own `turns`. */
  private show(turns: Turn[], base = this.step.base): void {
    for (const turn of turns.slice(base + this.step.shown)) this.onEvent({ kind: "turn", turn, node: turn.from === "user" ? "diversity" : turn.from });
    this.step.shown = Math.max(this.step.shown, turns.length - base);
  }

  /** The one checkpoint after `s` (already in the history, or run now). */
  private async next(s: StateSnapshot): Promise<StateSnapshot> {
    return this.children(s, "loop")[0] ?? this.invokeFrom(s);
  }

  private isBoundary(s: StateSnapshot): boolean {
    return s.next.length === 0 || s.next.includes(this.stepStart);
  }

  async run(instruction?: string): Promise<{ threadId: string; state: AgentStateType; search: SearchSummary }> {
    for await (const s of this.graph.getStateHistory(this.thread)) this.index(s);
    const resumed = this.byId.size > 0;
    this.onEvent({ kind: "start", threadId: this.threadId, resumed });
    let rootSnap = [...this.byId.values()].sort((a, b) => (idOf(a) < idOf(b) ? -1 : 1)).find((s) => sourceOf(s) === "loop" && this.isBoundary(s));
    if (!rootSnap) {
      if (!instruction) throw new UserError(`thread ${this.threadId} has no checkpoint: give an INSTRUCTION to start it`);
      rootSnap = await this.invokeFrom(null, { instruction });
      for (const turn of valuesOf(rootSnap).turns) this.onEvent({ kind: "turn", turn, node: "intake" });
    }
    if (valuesOf(rootSnap).status.status === "failed") throw new UserError(`thread ${this.threadId}: ${valuesOf(rootSnap).status.reason}`);
    const root = this.addNode(rootSnap, null, false, resumed);
    try {
      await this.dfs(root, rootSnap);
    } catch (e) {
      if (!(e instanceof Waiting)) throw e;
      const summary = this.summary(e.question);
      const at = await this.graph.getState({ configurable: { thread_id: this.threadId, checkpoint_id: e.question.checkpointId } });
      return { threadId: this.threadId, state: valuesOf(at), search: summary };
    }
    const summary = this.summary();
    this.onEvent({ kind: "search_end", summary });
    const shown = summary.answerNode ?? this.lastGiveUp() ?? this.tree[this.tree.length - 1]!.index;
    const state = valuesOf(this.byId.get(this.tree[shown]!.checkpointId)!);
    return { threadId: this.threadId, state, search: summary };
  }

  private lastGiveUp(): number | undefined {
    return this.tree.find((n) => n.kind === "give_up")?.index;
  }

  private summary(waiting?: SearchQuestion): SearchSummary {
    let modelCalls = 0;
    for (const s of this.byId.values()) {
      const parent = parentIdOf(s) && this.byId.get(parentIdOf(s)!);
      if (parent && sourceOf(s) === "loop" && parent.next.some((n) => MODEL_NODES.has(n))) modelCalls++;
    }
    const answer = this.answerNode === null ? null : (this.tree[this.answerNode]!.answer ?? null);
    return {
      kind: "dfsdt",
      tree: this.tree,
      answerNode: this.answerNode,
      finishType: waiting ? null : this.answerNode === null ? "give_up" : "give_answer",
      answer,
      stop: waiting ? "waiting" : this.stop,
      queries: this.queries,
      modelCalls,
      ...(waiting ? { waiting } : {}),
    };
  }

  private addNode(s: StateSnapshot, parent: SearchNode | null, diversity: boolean, replayed: boolean): SearchNode {
    const v = valuesOf(s);
    const before = parent ? valuesOf(this.byId.get(parent.checkpointId)!).turns.length : 0;
    const added = v.turns.slice(before);
    const plan = [...added].reverse().find((t) => t.from === "assistant")?.value;
    const call = added.find((t) => t.from === "caller")?.value;
    const observation = added.find((t) => t.from === "observation")?.value;
    const kind: NodeKind = !parent
      ? "root"
      : v.status.status === "finished"
        ? "answer"
        : v.status.status === "gave_up"
          ? "give_up"
          : v.status.status === "failed"
            ? "failed"
            : "step";
    const parsed = call !== undefined ? parseCaller(call) : undefined;
    const node: SearchNode = {
      index: this.tree.length,
      checkpointId: idOf(s),
      parent: parent?.index ?? null,
      depth: parent ? parent.depth + 1 : 0,
      branch: parent && parent.children.length > 0 ? ++this.branches : this.branches,
      kind,
      decision: parent ? v.decision : null,
      ...(plan !== undefined ? { plan } : {}),
      ...(parsed ? { action: parsed.action, actionInput: parsed.actionInput } : {}),
      ...(observation !== undefined ? { observation } : {}),
      ...(kind === "answer" && v.answer !== null ? { answer: v.answer } : {}),
      ...(kind === "failed" || kind === "give_up" ? { reason: v.status.reason } : {}),
      diversity,
      pruned: kind === "give_up" || kind === "failed",
      children: [],
    };
    this.tree.push(node);
    parent?.children.push(node.index);
    this.onEvent({ kind: "search", node, replayed });
    return node;
  }

  /** ToolBench's DFS: returns how many levels to go back (10000+ ends the search). */
  private async dfs(node: SearchNode, snap: StateSnapshot): Promise<number> {
    if (node.kind === "answer") {
      this.answerNode = node.index;
      this.stop = "answer";
      return 10000;
    }
    if (node.kind === "give_up") return 2;
    if (node.kind === "failed") return 1;
    if (node.depth >= this.o.chainSteps) {
      node.pruned = true;
      return 1;
    }
    for (let i = 0; i < this.o.beam; i++) {
      const { child, replayed, diversity, shown } = await this.expand(node, snap);
      this.queries++;
      if (!replayed) this.show(shown, 0);
      const childNode = this.addNode(child, node, diversity, replayed);
      if (this.queries >= this.o.maxQueries && childNode.kind !== "answer") {
        this.stop = "max_queries";
        return 100000;
      }
      const back = await this.dfs(childNode, child);
      if (back >= 10000) return back;
      if (back > 1) return back - 1;
    }
    return 1;
  }

  /** The node's next child: from the history when an earlier run made it, else run now (a fork at its checkpoint). */
  private async expand(node: SearchNode, snap: StateSnapshot): Promise<{ child: StateSnapshot; replayed: boolean; diversity: boolean; shown: Turn[] }> {
    const known = this.byId.size;
    this.step = { base: valuesOf(snap).turns.length, shown: 0 };
    const later = node.children.length > 0;
    const added = (fork: StateSnapshot) => valuesOf(fork).turns.length > valuesOf(snap).turns.length;
    const hidden = later && this.o.hideDiversity ? this.hiddenChildren(snap)[node.children.length - 1] : undefined;
    if (hidden) return { child: hidden, replayed: true, diversity: added(this.diversityForks(snap)[node.children.length - 1]!), shown: [] };
    const from = later ? await this.diversityFork(node, snap) : snap;
    const diversity = added(from);
    const attempts = this.children(from, "loop");
    let step: StateSnapshot | undefined;
    for (let j = 0; j < this.o.plannerAttempts; j++) {
      step = attempts[j] ?? (await this.invokeFrom(from));
      if (!this.isEmptyPlan(step)) break;
    }
    let s = step!;
    while (!this.isBoundary(s)) s = await this.next(s);
    const base = valuesOf(snap);
    const shown = valuesOf(s).turns.slice(base.turns.length);
    if (later && this.o.hideDiversity) s = await this.withoutDiversity(snap, from, s);
    return { child: s, replayed: this.byId.size === known, diversity, shown };
  }

  /**
   * ToolBench's hiding of the diversity turn: the step ran on the diversity fork; its turns (all but the diversity turn)
   * are written as a fork at the node itself, as if the last node of the step had run there.
   */
  private async withoutDiversity(snap: StateSnapshot, fork: StateSnapshot, ran: StateSnapshot): Promise<StateSnapshot> {
    const base = valuesOf(snap);
    const v = valuesOf(ran);
    const forkTurns = valuesOf(fork).turns.length;
    const lastNode = this.byId.get(parentIdOf(ran)!)!.next[0]!;
    const update = {
      turns: v.turns.slice(forkTurns),
      messages: v.messages.slice(base.messages.length),
      decision: v.decision,
      steps: v.steps,
      answer: v.answer,
      status: v.status,
    };
    const config = await this.graph.updateState(snap.config, update, lastNode);
    return this.index(await this.graph.getState(config));
  }

  /**
   * `updateState` forks at a node: the fork each later child starts from (τ plus the diversity turn, or τ unchanged when
   * no earlier child made a call), and, when hiding the diversity turn, the children themselves (τ plus a step).
   */
  private isDiversityFork(snap: StateSnapshot, c: StateSnapshot): boolean {
    const added = valuesOf(c).turns.slice(valuesOf(snap).turns.length);
    return added.length === 0 || (added.length === 1 && added[0]!.from === "user");
  }

  private diversityForks(snap: StateSnapshot): StateSnapshot[] {
    return this.children(snap, "update").filter((c) => this.isDiversityFork(snap, c));
  }

  private hiddenChildren(snap: StateSnapshot): StateSnapshot[] {
    return this.children(snap, "update").filter((c) => !this.isDiversityFork(snap, c));
  }

  private isEmptyPlan(s: StateSnapshot): boolean {
    if (this.stepStart !== "planner" || valuesOf(s).status.status !== "running") return false;
    const last = valuesOf(s).turns[valuesOf(s).turns.length - 1];
    return last?.from === "assistant" && last.value === EMPTY_PLAN;
  }

  /** The checkpoint with the diversity turn for the node's next child: the i-th `updateState` fork at the node. */
  private async diversityFork(node: SearchNode, snap: StateSnapshot): Promise<StateSnapshot> {
    const existing = this.diversityForks(snap)[node.children.length - 1];
    if (existing) return existing;
    const candidates: DiversityCandidate[] = [];
    for (const c of node.children.map((i) => this.tree[i]!)) {
      if (c.kind === "give_up") candidates.push(GIVE_UP_CANDIDATE);
      else if (c.action !== undefined) candidates.push({ name: c.action, arguments: c.actionInput ?? "", functionOutput: c.observation ?? "" });
    }
    // ToolBench adds the turn only when an earlier child made a call; the fork is made either way, so that a resumed
    // search finds each child's attempts under its own fork.
    const turns: Turn[] = candidates.length ? [{ from: "user", value: renderDiversityTurn(candidates, node.observation ?? "") }] : [];
    // As if the tool (or intake) had just run: the next node is the step's first model.
    const asNode = node.parent === null ? "intake" : "tool";
    const config = await this.graph.updateState(snap.config, { turns }, asNode);
    return this.index(await this.graph.getState(config));
  }
}
