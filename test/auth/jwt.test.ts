// Kubernetes and JWT auth against the real dev Vault: Vault's jwt method stands in for a cluster, with keys made here.
import { beforeAll, describe, expect, it } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { call, connectClient, ok, text, unique, vaultApi } from "../support/mcp.ts";
import { authServer, count, jwtIssuer, LIST_MOUNTS_POLICY, tempDir } from "./support.ts";

const issuer = jwtIssuer();
const mount = unique("k8s-jwt");
const role = "vault-mcp-server";
const dir = tempDir();
const jwtFile = join(dir, "token");
// What a projected service account token says: the service account as subject, Vault as audience.
const serviceAccount = { sub: "system:serviceaccount:kagent:vault-mcp-server", aud: ["vault"] };

beforeAll(async () => {
  await vaultApi("PUT", "sys/policies/acl/auth-test-list-mounts", { policy: LIST_MOUNTS_POLICY });
  expect((await vaultApi("POST", `sys/auth/${mount}`, { type: "jwt" })).status).toBe(204);
  expect((await vaultApi("POST", `auth/${mount}/config`, { jwt_validation_pubkeys: [issuer.publicKeyPem] })).status).toBe(204);
  const created = await vaultApi("POST", `auth/${mount}/role/${role}`, {
    role_type: "jwt",
    bound_audiences: ["vault"],
    user_claim: "sub",
    token_policies: ["auth-test-list-mounts"],
    token_ttl: "1h",
  });
  expect(created.status).toBe(204);
  writeFileSync(jwtFile, `${issuer.sign(serviceAccount)}\n`);
});

const k8sEnv = () => ({ VAULT_AUTH_METHOD: "kubernetes", VAULT_K8S_ROLE: role, VAULT_K8S_MOUNT: mount, VAULT_K8S_TOKEN_PATH: jwtFile });

describe("VAULT_AUTH_METHOD=kubernetes", () => {
  it("logs in with the service account token and serves tool calls with the token it got", async () => {
    const server = authServer(k8sEnv());
    const client = await connectClient(server);
    const r = await ok(client, "list_mounts");
    expect(text(r)).toContain("secret/");
    expect(server.requests).toContain(`POST auth/${mount}/login`);
    const self = await vaultApi("GET", "auth/token/lookup-self", undefined, server.lastToken());
    expect(self.json.data.policies).toContain("auth-test-list-mounts");
    expect(self.json.data.path).toBe(`auth/${mount}/login`);
  });

  it("shares one login among concurrent first calls", async () => {
    const server = authServer(k8sEnv());
    const client = await connectClient(server);
    await Promise.all(Array.from({ length: 8 }, () => ok(client, "list_mounts")));
    expect(count(server.requests, /\/login$/)).toBe(1);
  });

  it("logs in again after its token is revoked, and the call that met the dead token succeeds", async () => {
    const server = authServer(k8sEnv());
    const client = await connectClient(server);
    await ok(client, "list_mounts");
    const first = server.lastToken() as string;
    expect((await vaultApi("POST", "auth/token/revoke", { token: first })).status).toBe(204);

    // Vault's 403 makes the keeper check the token; once it is confirmed dead and replaced, the call is sent again.
    const r = await ok(client, "list_mounts");
    expect(text(r)).toContain("secret/");
    expect(server.lastToken()).not.toBe(first);
    expect(count(server.requests, /\/login$/)).toBe(2);
    expect(server.requests).toContain("GET auth/token/lookup-self");
  });

  it("does not log in again when a valid token is denied by its policy", async () => {
    const server = authServer(k8sEnv());
    const client = await connectClient(server);
    for (let i = 0; i < 10; i++) {
      const r = await call(client, "read_secret", { path: "anything" });
      expect(text(r)).toContain("Permission denied");
    }
    expect(count(server.requests, /\/login$/)).toBe(1);
    // One check with lookup-self, then the rate limit keeps the denied calls from causing more.
    expect(count(server.requests, /lookup-self/)).toBe(1);
  });

  it("reads the token file again at every login, so a rotated service account token is used", async () => {
    const rotating = join(dir, "rotating-token");
    writeFileSync(rotating, issuer.sign(serviceAccount));
    const server = authServer({ ...k8sEnv(), VAULT_K8S_TOKEN_PATH: rotating }, { timing: { retryMinMs: 10, retryMaxMs: 10 } });
    const client = await connectClient(server);
    await ok(client, "list_mounts");

    // The kubelet replaces the token; the old one is no good to Vault any more (here: signed by another key).
    writeFileSync(rotating, jwtIssuer().sign(serviceAccount));
    await vaultApi("POST", "auth/token/revoke", { token: server.lastToken() });
    const refused = await call(client, "list_mounts");
    expect(refused.isError).toBe(true);
    expect(text(refused)).toContain(`auth/${mount}/login`);

    writeFileSync(rotating, issuer.sign(serviceAccount));
    await Bun.sleep(20);
    expect(text(await ok(client, "list_mounts"))).toContain("secret/");
  });

  it("says why when Vault refuses the login, without the JWT", async () => {
    const server = authServer({ ...k8sEnv(), VAULT_K8S_ROLE: "no-such-role" });
    const client = await connectClient(server);
    const r = await call(client, "list_mounts");
    expect(r.isError).toBe(true);
    expect(text(r)).toContain(`POST auth/${mount}/login`);
    expect(text(r)).toContain("no-such-role");
    expect(JSON.stringify(r)).not.toContain("eyJ");
  });

  it("never writes a token or the JWT into its logs", async () => {
    const server = authServer(k8sEnv());
    const client = await connectClient(server);
    await ok(client, "list_mounts");
    const logs = server.logs.join("\n");
    expect(logs).toContain("logged in to Vault");
    expect(logs).not.toContain(server.lastToken() as string);
    expect(logs).not.toContain("eyJ");
  });
});

describe("VAULT_AUTH_METHOD=jwt", () => {
  it("is the same login under its own settings", async () => {
    const server = authServer({ VAULT_AUTH_METHOD: "jwt", VAULT_JWT_ROLE: role, VAULT_JWT_MOUNT: mount, VAULT_JWT_TOKEN_PATH: jwtFile });
    const client = await connectClient(server);
    expect(text(await ok(client, "list_mounts"))).toContain("secret/");
    expect(server.requests[0]).toBe(`POST auth/${mount}/login`);
  });

  it("defaults to the mount named jwt", async () => {
    const server = authServer({ VAULT_AUTH_METHOD: "jwt", VAULT_JWT_ROLE: role, VAULT_JWT_TOKEN_PATH: jwtFile });
    const r = await call(await connectClient(server), "list_mounts");
    expect(r.isError).toBe(true);
    expect(server.requests[0]).toBe("POST auth/jwt/login");
  });
});
