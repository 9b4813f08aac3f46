/**
 * A chat page on `alpha-umi serve` built the way LangChain's docs build one: `useStream` from
 * `@langchain/langgraph-sdk/react`. It sends a question as a human message, lists the messages with their tool calls
 * and results, shows each held call of the pending approval request with an Approve button, and shows the answer.
 * The server comes from `?api=URL`; the thread id is kept in the address (`&thread=ID`) so a reload finds its thread,
 * and `reconnectOnMount` rejoins the run that was streaming (its id is in sessionStorage) — the run goes on meanwhile
 * (`onDisconnect: "continue"`). Driven by tests/integration/browser-usestream.test.ts.
 */
import { useStream } from "@langchain/langgraph-sdk/react";
import type { Message } from "@langchain/langgraph-sdk";
import { useState, type FormEvent } from "react";
import { createRoot } from "react-dom/client";
import type { ApprovalRequest, ReviewDecision } from "../../src/approval.js";

const address = new URLSearchParams(location.search);
const apiUrl = address.get("api") ?? location.origin;

/** What the page reads of the thread's values (src/state.ts). */
interface ThreadValues extends Record<string, unknown> {
  messages: Message[];
  answer?: string | null;
}

/** Every run of this page outlives the page's connection, and a reload can rejoin it. */
const RESUMABLE = { streamResumable: true, onDisconnect: "continue" } as const;

function keepThreadInAddress(id: string): void {
  const query = new URLSearchParams(location.search);
  query.set("thread", id);
  history.replaceState(null, "", `?${query}`);
}

const text = (content: Message["content"]) => (typeof content === "string" ? content : content.map((p) => ("text" in p ? p.text : "")).join(""));

/** An error as one line: the SDK's stream errors carry a name and maybe no message. */
const describe = (e: unknown) => (e instanceof Error ? [e.name, e.message].filter(Boolean).join(": ") : JSON.stringify(e));

function MessageView({ message }: { message: Message }) {
  if (message.type === "tool")
    return (
      <li className="tool-result" data-name={message.name}>
        <b>{message.name}</b> → {text(message.content)}
      </li>
    );
  const calls = message.type === "ai" ? (message.tool_calls ?? []) : [];
  return (
    <li className={`message ${message.type}`}>
      {message.type === "human" ? "You: " : message.name ? `${message.name}: ` : ""}
      {text(message.content)}
      {calls.length > 0 && (
        <ul>
          {calls.map((call) => (
            <li key={call.id} className="tool-call" data-name={call.name}>
              <b>{call.name}</b>({JSON.stringify(call.args)})
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}

/** The held calls of one approval request; the answer goes once every call has a decision (one per call, in order). */
function Approval({ request, answer }: { request: ApprovalRequest; answer: (decisions: ReviewDecision[]) => void }) {
  const [decided, setDecided] = useState<ReviewDecision[]>([]);
  const approve = (at: number) => {
    const next = [...decided];
    next[at] = { type: "approve" };
    setDecided(next);
    if (request.action_requests.every((_, i) => next[i])) answer(next);
  };
  return (
    <section id="approval">
      <h2>Waiting for your approval</h2>
      <ul>
        {request.action_requests.map((action, i) => (
          <li key={i} className="held-call" data-name={action.name}>
            <b>{action.name}</b>({JSON.stringify(action.args)}) {action.description}{" "}
            <button type="button" disabled={decided[i] !== undefined} onClick={() => approve(i)}>
              Approve
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function App() {
  const [threadId, setThreadId] = useState<string | null>(address.get("thread"));
  const thread = useStream<ThreadValues, { InterruptType: ApprovalRequest }>({
    apiUrl,
    assistantId: "alphaUmi",
    threadId,
    onThreadId: (id) => (setThreadId(id), keepThreadInAddress(id)),
    reconnectOnMount: true,
  });
  const [question, setQuestion] = useState("");
  const send = (e: FormEvent) => {
    e.preventDefault();
    void thread.submit({ messages: [{ type: "human", content: question }] }, RESUMABLE);
    setQuestion("");
  };
  const request = thread.interrupt?.value;
  return (
    <main>
      <form onSubmit={send}>
        <input id="question" value={question} onChange={(e) => setQuestion(e.target.value)} placeholder="Ask" />
        <button type="submit" disabled={thread.isLoading || !question}>
          Send
        </button>
      </form>
      <p id="status">{thread.isLoading ? "running" : "idle"}</p>
      {thread.error != null && <p id="error">{describe(thread.error)}</p>}
      <ul id="messages">
        {thread.messages.map((m, i) => (
          <MessageView key={m.id ?? i} message={m} />
        ))}
      </ul>
      {request?.action_requests && !thread.isLoading && (
        // Keyed by the interrupt, so that the next request starts with no decisions.
        <Approval key={thread.interrupt?.id} request={request} answer={(decisions) => void thread.submit(undefined, { command: { resume: { decisions } }, ...RESUMABLE })} />
      )}
      {thread.values.answer && <output id="answer">{thread.values.answer}</output>}
    </main>
  );
}

createRoot(document.getElementById("root")!).render(<App />);
