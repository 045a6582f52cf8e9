// Tokens handed to the server (VAULT_TOKEN, VAULT_TOKEN_FILE) against the real dev Vault: renewal, file rotation, revocation.
import { beforeAll, describe, expect, it } from "bun:test";
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/log.ts";
import { buildRuntime } from "../../src/runtime.ts";
import { call, connectClient, ok, text, vaultApi } from "../support/mcp.ts";
import { testVault } from "../support/vault.ts";
import { authServer, count, LIST_MOUNTS_POLICY, tempDir } from "./support.ts";

const dir = tempDir();

async function newToken(options: Record<string, unknown> = {}): Promise<string> {
  const res = await vaultApi("POST", "auth/token/create", { policies: ["auth-test-list-mounts"], ttl: "1h", ...options });
  return res.json.auth.client_token;
}

beforeAll(async () => {
  await vaultApi("PUT", "sys/policies/acl/auth-test-list-mounts", { policy: LIST_MOUNTS_POLICY });
});

describe("VAULT_TOKEN", () => {
  it("renews the token before it expires", async () => {
    const token = await newToken({ ttl: "3s", explicit_max_ttl: "1m", renewable: true });
    const server = authServer({ VAULT_TOKEN: token });
    const client = await connectClient(server);
    await ok(client, "list_mounts");

    // Without renewal the token would be dead after 3s.
    await Bun.sleep(4000);
    expect(count(server.requests, /renew-self/)).toBeGreaterThanOrEqual(1);
    expect(text(await ok(client, "list_mounts"))).toContain("secret/");
    expect(server.lastToken()).toBe(token);
  }, 10_000);

  it("leaves a token that does not expire alone", async () => {
    const server = authServer({ VAULT_TOKEN: testVault().token });
    await ok(await connectClient(server), "list_mounts");
    await Bun.sleep(50);
    // One lookup to learn that it never expires; no timers, no renewals.
    expect(server.requests.toSorted()).toEqual(["GET auth/token/lookup-self", "GET sys/mounts"]);
  });

  it("says the token itself was revoked (not a missing policy) once it is, and reports itself not ready", async () => {
    const token = await newToken();
    const server = authServer({ VAULT_TOKEN: token });
    const client = await connectClient(server);
    await ok(client, "list_mounts");
    await vaultApi("POST", "auth/token/revoke", { token });

    const r = await call(client, "list_mounts");
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("Vault does not accept the server's own token");
    expect(text(r)).not.toContain("capability");
    const ready = await server.fetch("http://127.0.0.1:8084/readyz");
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { reason: string }).reason).toContain("invalid, expired or revoked");
    await Bun.sleep(50);
    expect(server.logs.join("")).toContain("Vault no longer accepts the configured token");
    expect(server.logs.join("")).not.toContain(token);
  });
});

describe("VAULT_TOKEN_FILE", () => {
  it("uses a token rewritten in place from the next request on", async () => {
    const file = join(dir, "rewritten");
    const [a, b] = [await newToken(), await newToken()];
    writeFileSync(file, `${a}\n`);
    const server = authServer({ VAULT_TOKEN_FILE: file });
    const client = await connectClient(server);
    await ok(client, "list_mounts");
    expect(server.lastToken()).toBe(a);

    await vaultApi("POST", "auth/token/revoke", { token: a });
    writeFileSync(file, `${b}\n`);
    await ok(client, "list_mounts");
    expect(server.lastToken()).toBe(b);
  });

  it("uses a token renamed over the file (an atomic replace)", async () => {
    const file = join(dir, "renamed");
    const [a, b] = [await newToken(), await newToken()];
    writeFileSync(file, a);
    const server = authServer({ VAULT_TOKEN_FILE: file });
    const client = await connectClient(server);
    await ok(client, "list_mounts");

    writeFileSync(`${file}.tmp`, b);
    renameSync(`${file}.tmp`, file);
    await ok(client, "list_mounts");
    expect(server.lastToken()).toBe(b);
  });

  it("uses the new token after a Kubernetes Secret volume swaps its ..data symlink", async () => {
    // The kubelet's layout: token -> ..data/token, ..data -> a timestamped directory, swapped by renaming a new link over ..data.
    const volume = join(dir, "secret-volume");
    mkdirSync(join(volume, "..2026_01_01_00_00_00.1"), { recursive: true });
    const [a, b] = [await newToken(), await newToken()];
    writeFileSync(join(volume, "..2026_01_01_00_00_00.1", "token"), a);
    symlinkSync("..2026_01_01_00_00_00.1", join(volume, "..data"));
    symlinkSync("..data/token", join(volume, "token"));
    const server = authServer({ VAULT_TOKEN_FILE: join(volume, "token") });
    const client = await connectClient(server);
    await ok(client, "list_mounts");
    expect(server.lastToken()).toBe(a);

    mkdirSync(join(volume, "..2026_01_01_00_10_00.2"));
    writeFileSync(join(volume, "..2026_01_01_00_10_00.2", "token"), b);
    symlinkSync("..2026_01_01_00_10_00.2", join(volume, "..data_tmp"));
    renameSync(join(volume, "..data_tmp"), join(volume, "..data"));
    rmSync(join(volume, "..2026_01_01_00_00_00.1"), { recursive: true });
    await vaultApi("POST", "auth/token/revoke", { token: a });

    await ok(client, "list_mounts");
    expect(server.lastToken()).toBe(b);
  });

  it("keeps the last token while the file is missing for a moment", async () => {
    const file = join(dir, "vanishing");
    const a = await newToken();
    writeFileSync(file, a);
    const server = authServer({ VAULT_TOKEN_FILE: file });
    const client = await connectClient(server);
    rmSync(file);
    await ok(client, "list_mounts");
    expect(server.lastToken()).toBe(a);
  });

  it("refuses to start when the file cannot be read, naming the setting", () => {
    const config = loadConfig([], { VAULT_ADDR: testVault().addr, VAULT_TOKEN_FILE: join(dir, "absent") });
    expect(() => buildRuntime(config, silentLogger)).toThrow(/^VAULT_TOKEN_FILE: cannot read .*absent \(ENOENT\)$/);
    writeFileSync(join(dir, "empty"), "\n");
    const empty = loadConfig([], { VAULT_ADDR: testVault().addr, VAULT_TOKEN_FILE: join(dir, "empty") });
    expect(() => buildRuntime(empty, silentLogger)).toThrow("VAULT_TOKEN_FILE");
  });
});
