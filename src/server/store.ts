/**
 * LangGraph's long-term memory store over HTTP, as its server has it (`@langchain/langgraph-api`'s api/store): items by
 * namespace and key, searched by namespace prefix, filter and text, with the auth events `store:put|get|search|
 * list_namespaces|delete` (a handler may rewrite the namespace, e.g. prefix it with the user, and return filters the
 * item must match). The store is LangGraph's Postgres store in the serve schema, the same one the graphs get.
 */
import { isAuthMatching, type AuthFilters } from "@langchain/langgraph-api/auth";
import type { Item } from "@langchain/langgraph";
import type { SearchOptions } from "@langchain/langgraph-checkpoint-postgres/store";
import type { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { raiseAuthEvent } from "./auth.js";
import { bodyOf } from "./assistants.js";

/** What the routes need of a store (LangGraph's BaseStore; PostgresStore from @langchain/langgraph-checkpoint-postgres/store). */
export interface ItemStore {
  get(namespace: string[], key: string): Promise<Item | null>;
  put(namespace: string[], key: string, value: Record<string, unknown>): Promise<void>;
  delete(namespace: string[], key: string): Promise<void>;
  search(prefix: string[], o: { filter?: SearchOptions["filter"]; query?: string; limit: number; offset: number }): Promise<Item[]>;
  listNamespaces(o: { prefix?: string[]; suffix?: string[]; maxDepth?: number; limit: number; offset: number }): Promise<string[][]>;
}

/** Items an auth-filtered query reads at most (LangGraph's bound): beyond it the query must be narrowed. */
const MAX_SCAN = 10_000;
const PAGE = 1000;

/**
 * A namespace the Postgres store keeps apart from every other: it joins labels with ":" and finds prefixes with LIKE,
 * so a label must hold neither ":" nor LIKE's wildcards; LangGraph's own rules (no ".", not empty) too.
 */
function checkNamespace(ns: string[], where: string): void {
  for (const label of ns)
    if (label === "" || /[.:%_\\]/.test(label))
      throw new HTTPException(422, { message: `${where}: namespace label ${JSON.stringify(label)} must be non-empty, without ".", ":", "%", "_" or "\\"` });
  if (ns[0] === "langgraph") throw new HTTPException(422, { message: `${where}: the namespace root "langgraph" is reserved` });
}

const startsWith = (ns: string[], prefix: string[]) => prefix.every((l, i) => ns[i] === l);
const endsWith = (ns: string[], suffix: string[]) => suffix.every((l, i) => ns[ns.length - suffix.length + i] === l);
/** What auth filters are matched against, as in LangGraph's server: the item's value, its namespace and key. */
const authMatches = (namespace: string[], key: string | undefined, value: unknown, filters: AuthFilters) =>
  isAuthMatching({ ...((value as object | null | undefined) ?? {}), namespace, ...(key === undefined ? {} : { key }) }, filters);

/**
 * The page `offset…offset+limit` of what `read` yields that `keep` accepts, reading `read` page by page: the store
 * matches a prefix as text (["a"] also finds ["ab"]), and auth filters are applied here, as LangGraph's server does.
 */
async function scan<T>(read: (limit: number, offset: number) => Promise<T[]>, keep: (t: T) => boolean, offset: number, limit: number): Promise<T[]> {
  const kept: T[] = [];
  for (let scanned = 0; kept.length < offset + limit; ) {
    if (scanned >= MAX_SCAN) throw new HTTPException(400, { message: `store query read over ${MAX_SCAN} items; narrow the namespace or the filter` });
    const page = await read(PAGE, scanned);
    scanned += page.length;
    kept.push(...page.filter(keep));
    if (page.length < PAGE) break;
  }
  return kept.slice(offset, offset + limit);
}

const apiItem = (i: Item) => ({ namespace: i.namespace, key: i.key, value: i.value, created_at: i.createdAt, updated_at: i.updatedAt });

const Namespace = z.array(z.string());
const PutBody = z.object({ namespace: Namespace, key: z.string().min(1), value: z.record(z.string(), z.unknown()), index: z.unknown().optional(), ttl: z.unknown().optional() });
const DeleteBody = z.object({ namespace: Namespace.optional(), key: z.string().min(1) });
const SearchBody = z.object({
  namespace_prefix: Namespace,
  filter: z.record(z.string(), z.unknown()).optional(),
  limit: z.number().int().min(1).max(1000).optional(),
  offset: z.number().int().min(0).optional(),
  query: z.string().optional(),
  refresh_ttl: z.unknown().optional(),
});
const NamespacesBody = z.object({
  prefix: Namespace.optional(),
  suffix: Namespace.optional(),
  max_depth: z.number().int().min(1).optional(),
  limit: z.number().int().min(1).max(1000).optional(),
  offset: z.number().int().min(0).optional(),
});

/**
 * @example registerStoreRoutes(app, new PostgresStore({ connectionOptions, schema }));
 */
export function registerStoreRoutes(app: Hono, store: ItemStore): void {
  /** The namespace and key the handlers left, checked again (a handler's namespace is held to the same rules). */
  const target = (value: Record<string, unknown>, where: string) => {
    const namespace = (value.namespace ?? []) as string[];
    checkNamespace(namespace, where);
    return { namespace, key: value.key as string };
  };

  app.put("/store/items", async (c) => {
    const b = await bodyOf(c.req, PutBody, "PUT /store/items");
    if (b.index !== undefined || b.ttl !== undefined) throw new HTTPException(422, { message: "PUT /store/items: index and ttl are not supported by this server's store" });
    checkNamespace(b.namespace, "PUT /store/items");
    if (!b.namespace.length) throw new HTTPException(422, { message: "PUT /store/items: namespace: at least one label" });
    const [filters, value] = await raiseAuthEvent(c.req.raw, "store:put", { namespace: b.namespace, key: b.key, value: b.value });
    const { namespace, key } = target(value, "PUT /store/items");
    const existing = await store.get(namespace, key);
    if (existing && !authMatches(existing.namespace, existing.key, existing.value, filters)) throw new HTTPException(404, { message: "item not found" });
    if (!authMatches(namespace, key, value.value, filters)) throw new HTTPException(403, { message: "not authorized to write this item" });
    await store.put(namespace, key, value.value as Record<string, unknown>);
    return c.body(null, 204);
  });

  app.get("/store/items", async (c) => {
    const key = c.req.query("key");
    if (!key) throw new HTTPException(422, { message: "GET /store/items: key is required" });
    const ns = c.req.query("namespace");
    const asked = ns ? ns.split(".") : [];
    checkNamespace(asked, "GET /store/items");
    const [filters, value] = await raiseAuthEvent(c.req.raw, "store:get", { namespace: asked, key });
    const { namespace } = target(value, "GET /store/items");
    const item = await store.get(namespace, value.key as string);
    if (item && !authMatches(item.namespace, item.key, item.value, filters)) throw new HTTPException(404, { message: "item not found" });
    return c.json(item && apiItem(item));
  });

  app.delete("/store/items", async (c) => {
    const b = await bodyOf(c.req, DeleteBody, "DELETE /store/items");
    checkNamespace(b.namespace ?? [], "DELETE /store/items");
    const [filters, value] = await raiseAuthEvent(c.req.raw, "store:delete", { namespace: b.namespace, key: b.key });
    const { namespace, key } = target(value, "DELETE /store/items");
    const existing = await store.get(namespace, key);
    if (existing ? !authMatches(existing.namespace, existing.key, existing.value, filters) : !authMatches(namespace, key, undefined, filters))
      throw new HTTPException(existing ? 404 : 403, { message: existing ? "item not found" : "not authorized to delete this item" });
    await store.delete(namespace, key);
    return c.body(null, 204);
  });

  app.post("/store/items/search", async (c) => {
    const b = await bodyOf(c.req, SearchBody, "POST /store/items/search");
    checkNamespace(b.namespace_prefix, "POST /store/items/search");
    const [filters, value] = await raiseAuthEvent(c.req.raw, "store:search", { namespace: b.namespace_prefix, filter: b.filter, limit: b.limit, offset: b.offset, query: b.query });
    const { namespace: prefix } = target(value, "POST /store/items/search");
    const items = await scan(
      (limit, offset) => store.search(prefix, { filter: b.filter as SearchOptions["filter"], query: b.query, limit, offset }),
      (i) => startsWith(i.namespace, prefix) && authMatches(i.namespace, i.key, i.value, filters),
      b.offset ?? 0,
      b.limit ?? 10,
    );
    return c.json({ items: items.map(apiItem) });
  });

  app.post("/store/namespaces", async (c) => {
    const b = await bodyOf(c.req, NamespacesBody, "POST /store/namespaces");
    checkNamespace(b.prefix ?? [], "POST /store/namespaces");
    checkNamespace(b.suffix ?? [], "POST /store/namespaces");
    const [filters, value] = await raiseAuthEvent(c.req.raw, "store:list_namespaces", { namespace: b.prefix, suffix: b.suffix, max_depth: b.max_depth, limit: b.limit, offset: b.offset });
    const prefix = (value.namespace as string[] | undefined) ?? [];
    checkNamespace(prefix, "POST /store/namespaces");
    const namespaces = await scan(
      (limit, offset) => store.listNamespaces({ prefix: prefix.length ? prefix : undefined, suffix: b.suffix, limit, offset }),
      (ns) => startsWith(ns, prefix) && endsWith(ns, b.suffix ?? []) && authMatches(ns, undefined, undefined, filters),
      0,
      Number.MAX_SAFE_INTEGER,
    );
    // Cut to max_depth and deduplicated, as LangGraph's store lists them.
    const depth = b.max_depth;
    const listed = [...new Map(namespaces.map((ns) => (depth ? ns.slice(0, depth) : ns)).map((ns) => [ns.join("\u0000"), ns])).values()];
    const offset = b.offset ?? 0;
    return c.json({ namespaces: listed.slice(offset, offset + (b.limit ?? 100)) });
  });
}
