/**
 * Contract: `@langchain/langgraph-api/auth`, through which `alpha-umi serve` runs the operator's `Auth`
 * (`@langchain/langgraph-sdk/auth`) as LangGraph's server does (src/server/auth.ts): registerAuth loads it from
 * langgraph.json's `auth.path`, authenticate runs its authenticate handler on a request, handleAuthEvent its resource
 * handlers (which may change the value and return filters), isAuthMatching matches thread metadata to those filters.
 */
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as lgAuth from "@langchain/langgraph-api/auth";
import { authenticate, handleAuthEvent, isAuthMatching, registerAuth, type AuthContext } from "@langchain/langgraph-api/auth";

const AUTH_MODULE = `import { Auth, HTTPException } from "@langchain/langgraph-sdk/auth";
export const auth = new Auth()
  .authenticate(async (request) => {
    const token = request.headers.get("authorization")?.split(" ").at(-1);
    if (token !== "token-a") throw new HTTPException(401, { message: "Invalid token" });
    return { identity: "user-a", permissions: ["threads:write"] };
  })
  .on("threads:create", ({ value, user }) => {
    value.metadata ??= {};
    value.metadata.owner = user.identity;
    return { owner: user.identity };
  })
  .on("threads:read", ({ user }) => ({ owner: { $eq: user.identity } }))
  .on("threads:delete", () => false);
`;

const dir = mkdtempSync(join(tmpdir(), "alpha-umi-contract-auth-"));

beforeAll(async () => {
  // The auth module imports the SDK as an operator's project does, from its own node_modules.
  symlinkSync(resolve("node_modules"), join(dir, "node_modules"), "dir");
  writeFileSync(join(dir, "auth.mjs"), AUTH_MODULE);
  await registerAuth({ path: "./auth.mjs:auth" }, { cwd: dir });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const request = (token?: string) => new Request("http://server.test/threads", { headers: token ? { authorization: `Bearer ${token}` } : {} });

describe("LangGraph contract: @langchain/langgraph-api/auth", () => {
  it("exports registerAuth, authenticate, handleAuthEvent and isAuthMatching as functions", () => {
    for (const name of ["registerAuth", "authenticate", "handleAuthEvent", "isAuthMatching"] as const) expect(typeof lgAuth[name]).toBe("function");
  });

  it("authenticate runs the Auth's handler: the user and permissions for a good token, its HTTPException (status and message) otherwise", async () => {
    const ok = await authenticate(request("token-a"));
    expect(ok?.user).toMatchObject({ identity: "user-a", is_authenticated: true, permissions: ["threads:write"] });
    await expect(authenticate(request("nope"))).rejects.toMatchObject({ status: 401, message: "Invalid token" });
    await expect(authenticate(request())).rejects.toMatchObject({ status: 401 });
  });

  it("handleAuthEvent runs the resource handler: its filters, the value as it changed it; `false` refuses with 403", async () => {
    const context = (await authenticate(request("token-a"))) as AuthContext;
    const [filters, value] = await handleAuthEvent(context, "threads:create", { thread_id: "t1", metadata: { topic: "x" }, if_exists: "raise" });
    expect(filters).toEqual({ owner: "user-a" });
    expect(value.metadata).toEqual({ topic: "x", owner: "user-a" });
    const [readFilters] = await handleAuthEvent(context, "threads:read", { thread_id: "t1" });
    expect(readFilters).toEqual({ owner: { $eq: "user-a" } });
    await expect(handleAuthEvent(context, "threads:delete", { thread_id: "t1" })).rejects.toMatchObject({ status: 403 });
  });

  it("isAuthMatching matches metadata to filters: plain values and $eq are equality, $contains membership", () => {
    expect(isAuthMatching({ owner: "user-a" }, { owner: "user-a" })).toBe(true);
    expect(isAuthMatching({ owner: "user-b" }, { owner: "user-a" })).toBe(false);
    expect(isAuthMatching({}, { owner: "user-a" })).toBe(false);
    expect(isAuthMatching({ owner: "user-a" }, { owner: { $eq: "user-a" } })).toBe(true);
    expect(isAuthMatching({ team: ["user-a", "user-c"] }, { team: { $contains: "user-a" } })).toBe(true);
    expect(isAuthMatching({ team: ["user-c"] }, { team: { $contains: "user-a" } })).toBe(false);
    expect(isAuthMatching({ owner: "anyone" }, {})).toBe(true);
  });
});
