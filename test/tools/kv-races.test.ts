// KV deletes racing writers in one process, with the race forced by a hook on the server's requests to Vault.
import { beforeAll, describe, expect, it } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { call, connectClient, ok, text, unique, vaultApi, type TestServer, testServer } from "../support/mcp.ts";

/** Runs before the server's request to Vault is sent; may act as another client would at that moment. */
type Hook = (method: string, path: string) => Promise<void> | void;

/** An in-process server whose requests to Vault pass through `hook` first; `kv1Merge` as an operator would set it. */
function hookedServer(hook: Hook, kv1Merge: "refuse" | "local" = "refuse"): TestServer {
  const hooked = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    await hook(init?.method ?? "GET", url.pathname.replace(/^\/v1\//, ""));
    return fetch(input, init);
  }) as typeof fetch;
  return testServer({ MCP_KV1_MERGE: kv1Merge }, { fetch: hooked });
}

let v2: string;
let v1: string;

beforeAll(async () => {
  v2 = unique("race2");
  v1 = unique("race1");
  await vaultApi("POST", `sys/mounts/${v2}`, { type: "kv", options: { version: "2" } });
  await vaultApi("POST", `sys/mounts/${v1}`, { type: "kv", options: { version: "1" } });
});

const metadata = async (path: string) => (await vaultApi("GET", `${v2}/metadata/${path}`)).json.data;

describe("delete_secret of a whole KV v2 secret while others write", () => {
  it("deletes exactly the version it reports, and says a newer version written meanwhile is still live", async () => {
    const path = "forced/newer";
    let armed = true;
    const client = await connectClient(
      hookedServer(async (method, at) => {
        // The moment between reading version 1 and deleting: another client writes version 2.
        if (armed && method !== "GET" && (at === `${v2}/delete/${path}` || at === `${v2}/data/${path}`)) {
          armed = false;
          await vaultApi("POST", `${v2}/data/${path}`, { data: { a: "1", b: "2" } });
        }
      }),
    );
    await vaultApi("POST", `${v2}/data/${path}`, { data: { a: "1" } });
    const r = await ok(client, "delete_secret", { mount: v2, path });
    const meta = await metadata(path);
    expect(meta.versions["1"].deletion_time).not.toBe("");
    expect(meta.versions["2"].deletion_time).toBe("");
    expect(r.structuredContent).toMatchObject({ version: 1, recoverable: true, newer_version: 2 });
    expect(text(r)).toBe(
      `Deleted version 1 of ${v2}/${path} (soft delete). It can be recovered with \`vault kv undelete -versions=1 ${v2}/${path}\`.\n` +
        `A newer version 2 was written meanwhile and is not deleted: ${v2}/${path} still has live data. ` +
        `Call delete_secret again to delete it too, or read_secret(mount="${v2}", path="${path}") to see it.`,
    );
  });

  it("reports, in every round, a version that Vault really deleted while writers keep writing", async () => {
    const client = await connectClient();
    let wrong = 0;
    const rounds = 12;
    for (let round = 0; round < rounds; round++) {
      const path = `rounds/r${round}`;
      await vaultApi("POST", `${v2}/data/${path}`, { data: { seed: "s" } });
      const writers = Array.from({ length: 4 }, (_, i) => call(client, "write_secret", { mount: v2, path, key: `k${i}`, value: "v" }));
      const deleted = call(client, "delete_secret", { mount: v2, path });
      const [d] = await Promise.all([deleted, ...writers]);
      if (d.isError) continue;
      const v = d.structuredContent?.version as number;
      const meta = await metadata(path);
      if (!meta.versions[String(v)]?.deletion_time) wrong++;
      // A newer version it names must exist, and it must be the one that is now the latest or older.
      const newer = d.structuredContent?.newer_version as number | undefined;
      if (newer !== undefined && (newer <= v || newer > meta.current_version)) wrong++;
    }
    expect(wrong).toBe(0);
  });
});

describe("delete_secret of a whole KV v1 secret with MCP_KV1_MERGE=local", () => {
  it("waits for this replica's merges in flight, so none writes the deleted keys back after 'Deleted permanently'", async () => {
    const path = "merge/then-delete";
    let merging: () => void = () => {};
    const mergeRead = new Promise<void>((resolve) => (merging = resolve));
    let slowed = false;
    const client = await connectClient(
      hookedServer(async (method, at) => {
        if (at !== `${v1}/${path}`) return;
        if (method === "GET") merging();
        // The merge's write arrives late, as a write on a busy Vault does.
        if (method === "POST" && !slowed) {
          slowed = true;
          await Bun.sleep(150);
        }
      }, "local"),
    );
    await vaultApi("POST", `${v1}/${path}`, { old: "1" });
    const merge = ok(client, "write_secret", { mount: v1, path, key: "new", value: "2" });
    await mergeRead;
    const del = await ok(client, "delete_secret", { mount: v1, path });
    await merge;
    expect(text(del)).toBe(`Deleted ${v1}/${path} permanently (KV v1 keeps no versions).`);
    // Deleted after the merge, so nothing may be there: before, the late merge wrote "old" back.
    expect((await vaultApi("GET", `${v1}/${path}`)).status).toBe(404);
  });
});
