/**
 * A graph as `@langchain/langgraph-api` streams it, with `messages` working under `streamSubgraphs`.
 *
 * The API's run stream (1.5) finds a step's complete messages by reading a root stream chunk as `[mode, values]`; with
 * subgraphs, chunks are `[namespace, mode, values]`, so it reads the mode string instead and `messages/complete` never
 * comes. After each such `values` chunk this adds one in the shape it reads there, `[namespace, values, values]`, which
 * its other branches pass over (its mode is no stream mode).
 */
import type { StreamEvent } from "@langchain/core/tracers/log_stream";

interface StreamEventsOptions {
  version?: string;
  subgraphs?: boolean;
  runId?: string;
}

type StreamEvents = (input: unknown, options?: StreamEventsOptions, ...rest: unknown[]) => AsyncIterable<StreamEvent>;

async function* withValuesForMessages(events: AsyncIterable<StreamEvent>, runId: string | undefined): AsyncGenerator<StreamEvent> {
  for await (const event of events) {
    yield event;
    const chunk = (event.data as { chunk?: unknown } | undefined)?.chunk;
    if (event.event === "on_chain_stream" && event.run_id === runId && Array.isArray(chunk) && chunk.length === 3 && chunk[1] === "values")
      yield { ...event, data: { chunk: [chunk[0], chunk[2], chunk[2]] } };
  }
}

/**
 * @example
 * createEmbedServer({ graph: { alphaUmi: withSubgraphMessages(createAlphaUmiGraph(opts)) }, threads, checkpointer });
 */
export function withSubgraphMessages<G extends object>(graph: G): G {
  return new Proxy(graph, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (typeof value !== "function") return value;
      if (prop !== "streamEvents") return value.bind(target);
      return (input: unknown, options?: StreamEventsOptions, ...rest: unknown[]) => {
        const events = (value as StreamEvents).call(target, input, options, ...rest);
        return options?.subgraphs && options.version === "v2" ? withValuesForMessages(events, options.runId) : events;
      };
    },
  });
}
