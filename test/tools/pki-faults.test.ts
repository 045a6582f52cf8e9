// PKI under faults: one fault at each step of create_pki_issuer and issue_pki_certificate, between the server and the
// real dev Vault, and the answer held against what Vault holds afterwards (keys, issuers, certificates signed by the parent).
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { type FaultMode, type FaultProxy, type FaultRule, startFaultProxy } from "../support/fault-proxy.ts";
import { call, connectClient, testServer, text, type ToolResult, unique, vaultApi } from "../support/mcp.ts";
import { testVault } from "../support/vault.ts";

const MODES: FaultMode[] = ["reset-before", "drop-after", "truncate-head", "truncate-body", "garbage-body", "html-502", "stall", "delay"];

const ROOT = unique("pf-root");
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

let proxy: FaultProxy;
let client: Client;
const matrix = new Map<string, Map<FaultMode, string>>();

/**
 * What an answer claims: "success"; "clean" (a failure that says nothing it made is left); "leftovers" (a failure that
 * names what it could not undo or check); "unsure" (a failure that says neither).
 */
type Claim = "success" | "clean" | "leftovers" | "unsure";

function claimOf(result: ToolResult): Claim {
  if (!result.isError) return "success";
  const words = text(result);
  if (/Could NOT undo|Could not check/.test(words)) return "leftovers";
  if (/Nothing this call made is left in Vault|Nothing was created/.test(words)) return "clean";
  return "unsure";
}

async function listed(path: string): Promise<string[]> {
  const res = await vaultApi("LIST", path);
  return res.status === 404 ? [] : (res.json?.data?.keys ?? []);
}

/** Serials the root mount holds now. */
async function rootSerials(): Promise<Set<string>> {
  return new Set(await listed(`${ROOT}/certs`));
}

/** What Vault holds for an intermediate mount, and the certificates the root signed since `before` that are not revoked. */
async function holdings(mount: string, before: Set<string>): Promise<{ keys: string[]; issuers: string[]; liveSigned: string[] }> {
  const liveSigned: string[] = [];
  for (const serial of await rootSerials()) {
    if (before.has(serial)) continue;
    const cert = await vaultApi("GET", `${ROOT}/cert/${serial}`);
    if (!(cert.json?.data?.revocation_time > 0)) liveSigned.push(serial);
  }
  return { keys: await listed(`${mount}/keys`), issuers: await listed(`${mount}/issuers`), liveSigned };
}

async function pkiMount(): Promise<string> {
  const mount = unique("pf-int");
  expect((await vaultApi("POST", `sys/mounts/${mount}`, { type: "pki", config: { max_lease_ttl: "87600h" } })).status).toBe(204);
  return mount;
}

function intermediate(mount: string, extra: Record<string, unknown> = {}) {
  return call(client, "create_pki_issuer", {
    mount,
    type: "intermediate",
    common_name: "Fault Intermediate CA",
    parent_mount: ROOT,
    issuer_name: "int",
    key_type: "ec",
    key_bits: 256,
    ttl: "24h",
    ...extra,
  });
}

/**
 * Why the answer is untrue of what Vault holds, or undefined when it is true. A success must be whole (its issuer, key and
 * a live certificate from the parent, all as reported); "clean" must leave nothing; "leftovers" must name every id left.
 */
async function misleading(result: ToolResult, mount: string, before: Set<string>): Promise<string | undefined> {
  const claim = claimOf(result);
  const now = await holdings(mount, before);
  const words = text(result);
  if (claim === "success") {
    const out = result.structuredContent ?? {};
    const issuer = await vaultApi("GET", `${mount}/issuer/${out.issuer_id}`);
    if (issuer.status !== 200) return `reports issuer ${out.issuer_id}, which ${mount}/ does not hold`;
    if (issuer.json.data.key_id !== out.key_id || !now.keys.includes(out.key_id)) return `reports key ${out.key_id}, but the issuer's key is ${issuer.json.data.key_id}`;
    if (issuer.json.data.issuer_name !== "int") return `the issuer is named "${issuer.json.data.issuer_name}", not "int"`;
    if (now.keys.length !== 1) return `${mount}/ holds ${now.keys.length} keys, not one`;
    if (now.liveSigned.length !== 1 || now.liveSigned[0] !== out.serial) return `the root holds live signed certificates ${JSON.stringify(now.liveSigned)}, reported ${out.serial}`;
    return undefined;
  }
  const left = [...now.keys, ...now.issuers, ...now.liveSigned];
  if (claim === "clean") return left.length > 0 ? `says nothing is left, but Vault holds ${JSON.stringify(now)}` : undefined;
  if (claim === "leftovers") {
    const unnamed = left.filter((id) => !words.includes(id));
    return unnamed.length > 0 ? `names what is left but not ${unnamed.join(", ")} (Vault holds ${JSON.stringify(now)})` : undefined;
  }
  // Unsure but true only when nothing is left; leftovers it does not name are what a model would never clean up.
  return left.length > 0 ? `neither says what is left nor that nothing is, and Vault holds ${JSON.stringify(now)}` : undefined;
}

beforeAll(async () => {
  proxy = await startFaultProxy(testVault().addr);
  expect((await vaultApi("POST", `sys/mounts/${ROOT}`, { type: "pki", config: { max_lease_ttl: "87600h" } })).status).toBe(204);
  expect((await vaultApi("POST", `${ROOT}/issuers/generate/root/internal`, { common_name: "Fault Root", ttl: "8760h", key_type: "ec", key_bits: 256 })).status).toBe(200);
  expect((await vaultApi("POST", `${ROOT}/roles/web`, { allowed_domains: ["example.com"], allow_subdomains: true, key_type: "ec", key_bits: 256, max_ttl: "72h" })).status).toBeLessThan(300);
  // One second is enough for the dev Vault on loopback, and keeps the stalls short.
  client = await connectClient(testServer({ VAULT_ADDR: proxy.addr, VAULT_CLIENT_TIMEOUT: "1s" }));
});

afterAll(async () => {
  await client?.close();
  await proxy?.close();
  const rows = [...matrix.entries()].map(([name, cells]) => `| ${name} | ${MODES.map((m) => cells.get(m) ?? "").join(" | ")} |`);
  console.log(["", `| intermediate issuer, fault at | ${MODES.join(" | ")} |`, `| --- | ${MODES.map(() => "---").join(" | ")} |`, ...rows].join("\n"));
});

/** The steps of an intermediate's creation, each with the request to break. */
const STEPS: { step: string; rule(mount: string): Omit<FaultRule, "mode"> }[] = [
  { step: "key generation", rule: (m) => ({ method: "POST", path: new RegExp(`^${escape(m)}/issuers/generate/intermediate/internal$`) }) },
  { step: "the parent's signature", rule: () => ({ method: "POST", path: new RegExp(`^${escape(ROOT)}/issuer/default/sign-intermediate$`) }) },
  { step: "set-signed", rule: (m) => ({ method: "POST", path: new RegExp(`^${escape(m)}/intermediate/set-signed$`) }) },
  { step: "naming", rule: (m) => ({ method: "PATCH", path: new RegExp(`^${escape(m)}/issuer/[^/]+$`) }) },
  // Reads are resent once after a lost answer, so the follow-up read is broken twice.
  { step: "the follow-up read of the default", rule: (m) => ({ method: "GET", path: new RegExp(`^${escape(m)}/config/issuers$`), times: 2 }) },
];

describe("create_pki_issuer(type=intermediate) with one fault at any step says exactly what it left in Vault", () => {
  for (const { step, rule } of STEPS) {
    for (const mode of MODES) {
      it(`at ${step}, ${mode}: the answer is a whole success or a failure that leaves nothing, as Vault confirms`, async () => {
        const mount = await pkiMount();
        const before = await rootSerials();
        proxy.inject({ ...rule(mount), mode, delayMs: 200 });
        let result: ToolResult;
        let hit: boolean;
        try {
          result = await intermediate(mount);
          hit = proxy.seen.some((s) => s.fault === mode);
        } finally {
          proxy.clear();
        }
        const claim = claimOf(result);
        const wrong = await misleading(result, mount, before);
        const cells = matrix.get(step) ?? new Map<FaultMode, string>();
        matrix.set(step, cells);
        cells.set(mode, wrong ? `WRONG: ${claim}` : claim);
        expect(hit).toBe(true);
        if (wrong) throw new Error(`fault at ${step}, ${mode}: ${wrong}.\nAnswer: ${text(result)}`);
        expect(text(result)).not.toMatch(/internal error|this is a bug/i);
        // One fault is always undone or survived: nothing is left for a person to clean up.
        expect(["success", "clean"]).toContain(claim);
        if (mode === "delay" || step === "naming" || step === "the follow-up read of the default") expect(claim).toBe("success");
      });
    }
  }
});

describe("undoing an intermediate that failed", () => {
  it("checks each undo by reading back, so an undo whose own answer is lost is still known to be done", async () => {
    const mount = await pkiMount();
    const before = await rootSerials();
    proxy.inject({ method: "POST", path: new RegExp(`^${escape(mount)}/intermediate/set-signed$`), mode: "drop-after" });
    // Vault deletes the issuer, but the answer is a proxy's 502 page.
    proxy.inject({ method: "DELETE", path: new RegExp(`^${escape(mount)}/issuer/[^/]+$`), mode: "html-502" });
    let result: ToolResult;
    try {
      result = await intermediate(mount);
    } finally {
      proxy.clear();
    }
    expect(await misleading(result, mount, before)).toBeUndefined();
    expect(claimOf(result)).toBe("clean");
    expect(text(result)).toContain("deleted issuer");
    expect(text(result)).toContain("deleted the generated key");
    expect(text(result)).toContain("revoked the unused certificate");
  });

  it("names by id, with the command to remove it, each thing it could not undo, and revokes no certificate an issuer still uses", async () => {
    const mount = await pkiMount();
    const before = await rootSerials();
    proxy.inject({ method: "POST", path: new RegExp(`^${escape(mount)}/intermediate/set-signed$`), mode: "garbage-body" });
    // Every DELETE of an issuer is reset before Vault sees it (the resend too).
    proxy.inject({ method: "DELETE", path: new RegExp(`^${escape(mount)}/issuer/[^/]+$`), mode: "reset-before", times: 100 });
    let result: ToolResult;
    try {
      result = await intermediate(mount);
    } finally {
      proxy.clear();
    }
    const words = text(result);
    expect(claimOf(result)).toBe("leftovers");
    expect(await misleading(result, mount, before)).toBeUndefined();
    expect(words).not.toMatch(/nothing (this call made )?is left/i);
    const now = await holdings(mount, before);
    // The intermediate and the copy of the root imported for its chain.
    expect(now.issuers.length).toBeGreaterThanOrEqual(1);
    for (const id of now.issuers) expect(words).toContain(`vault delete ${mount}/issuer/${id}`);
    expect(now.keys).toHaveLength(1);
    expect(words).toContain(`vault delete ${mount}/key/${now.keys[0]}`);
    // Its certificate is still the live issuer's: revoking it would leave an issuer with a revoked certificate.
    expect(now.liveSigned).toHaveLength(1);
    expect(words).toContain(`vault write ${ROOT}/revoke serial_number=${now.liveSigned[0]}`);
    expect(words).not.toContain("revoked the unused certificate");
  });

  it("undoes what it still can when one removal fails, and names exactly what is left", async () => {
    const mount = await pkiMount();
    const before = await rootSerials();
    proxy.inject({ method: "POST", path: new RegExp(`^${escape(mount)}/intermediate/set-signed$`), mode: "drop-after" });
    // The first issuer's DELETE goes through; every later one is reset before Vault sees it.
    proxy.inject({ method: "DELETE", path: new RegExp(`^${escape(mount)}/issuer/[^/]+$`), mode: "reset-before", after: 1, times: 100 });
    let result: ToolResult;
    try {
      result = await intermediate(mount);
    } finally {
      proxy.clear();
    }
    expect(claimOf(result)).toBe("leftovers");
    expect(await misleading(result, mount, before)).toBeUndefined();
    const now = await holdings(mount, before);
    expect(now.issuers).toHaveLength(1);
    const left = (await vaultApi("GET", `${mount}/issuer/${now.issuers[0]}`)).json.data;
    if (left.key_id) {
      // The intermediate is left: its key and certificate stay with it, named with their commands.
      expect(text(result)).toContain("(the new intermediate)");
      expect(now.keys).toEqual([left.key_id]);
      expect(now.liveSigned).toHaveLength(1);
    } else {
      // Only the copy of the root is left: the key is deleted and the certificate revoked.
      expect(text(result)).toContain("imported with it");
      expect(now.keys).toEqual([]);
      expect(now.liveSigned).toEqual([]);
    }
  });

  it("when it cannot even look for the key a lost answer may have made, says so and names the key to look for", async () => {
    const mount = await pkiMount();
    proxy.inject({ method: "POST", path: new RegExp(`^${escape(mount)}/issuers/generate/intermediate/internal$`), mode: "drop-after" });
    proxy.inject({ method: "LIST", path: new RegExp(`^${escape(mount)}/keys/?$`), mode: "reset-before", times: 100 });
    let result: ToolResult;
    try {
      result = await intermediate(mount);
    } finally {
      proxy.clear();
    }
    const words = text(result);
    expect(claimOf(result)).toBe("leftovers");
    expect(words).not.toMatch(/nothing (this call made )?is left|nothing was created/i);
    const info = (await vaultApi("LIST", `${mount}/keys`)).json.data.key_info;
    const [name] = Object.values(info).map((k: any) => k.key_name as string);
    expect(words).toContain(`whether a key named ${name} was made in ${mount}/`);
    expect(words).toContain(`vault list ${mount}/keys`);
  });

  it("removes only its own key after a lost answer, never keys that other callers made meanwhile", async () => {
    const mount = await pkiMount();
    const before = await rootSerials();
    const earlier = (await vaultApi("POST", `${mount}/keys/generate/internal`, { key_type: "ec", key_bits: 256, key_name: "earlier" })).json.data.key_id;
    // The answer to our key generation is held back; another caller makes a key while it is.
    proxy.inject({ method: "POST", path: new RegExp(`^${escape(mount)}/issuers/generate/intermediate/internal$`), mode: "stall" });
    const pending = intermediate(mount);
    await Bun.sleep(200);
    const meanwhile = (await vaultApi("POST", `${mount}/keys/generate/internal`, { key_type: "ec", key_bits: 256, key_name: "meanwhile" })).json.data.key_id;
    let result: ToolResult;
    try {
      result = await pending;
    } finally {
      proxy.clear();
    }
    expect(claimOf(result)).toBe("clean");
    expect(text(result)).toContain("deleted the generated key");
    expect((await listed(`${mount}/keys`)).sort()).toEqual([earlier, meanwhile].sort());
    expect((await holdings(mount, before)).liveSigned).toEqual([]);
  });

  it("finds and revokes the certificate the parent signed when the signature's answer was lost", async () => {
    const mount = await pkiMount();
    const before = await rootSerials();
    proxy.inject({ method: "POST", path: new RegExp(`^${escape(ROOT)}/issuer/default/sign-intermediate$`), mode: "drop-after" });
    let result: ToolResult;
    try {
      result = await intermediate(mount);
    } finally {
      proxy.clear();
    }
    const signed = [...(await rootSerials())].filter((s) => !before.has(s));
    expect(signed).toHaveLength(1);
    expect(text(result)).toContain(`revoked the unused certificate ${signed[0]}`);
    expect(claimOf(result)).toBe("clean");
    expect(await misleading(result, mount, before)).toBeUndefined();
  });
});

describe("create_pki_issuer(type=root) under faults", () => {
  it("reports a root it made when only the follow-up read of the default failed", async () => {
    const mount = await pkiMount();
    proxy.inject({ method: "GET", path: new RegExp(`^${escape(mount)}/config/issuers$`), mode: "html-502", times: 2 });
    let result: ToolResult;
    try {
      result = await call(client, "create_pki_issuer", { mount, type: "root", common_name: "Read Fails Root", key_type: "ec", key_bits: 256, ttl: "24h" });
    } finally {
      proxy.clear();
    }
    expect(result.isError).toBeFalsy();
    const id = result.structuredContent?.issuer_id;
    expect(await listed(`${mount}/issuers`)).toEqual([id]);
    expect(text(result)).toContain("could not be read");
  });

  for (const mode of ["drop-after", "garbage-body", "html-502", "reset-before"] as FaultMode[]) {
    it(`after ${mode} on the root's generation, answers what Vault holds: the root it made, or that none was made`, async () => {
      const mount = await pkiMount();
      proxy.inject({ method: "POST", path: new RegExp(`^${escape(mount)}/issuers/generate/root/internal$`), mode });
      let result: ToolResult;
      try {
        result = await call(client, "create_pki_issuer", { mount, type: "root", common_name: "Lost Root", issuer_name: "lost", key_type: "ec", key_bits: 256, ttl: "24h" });
      } finally {
        proxy.clear();
      }
      const issuers = await listed(`${mount}/issuers`);
      if (result.isError) {
        expect(issuers).toEqual([]);
        expect(await listed(`${mount}/keys`)).toEqual([]);
        expect(text(result)).toMatch(/no root was made|Nothing was created/i);
      } else {
        expect(issuers).toEqual([result.structuredContent?.issuer_id]);
        expect((await vaultApi("GET", `${mount}/issuer/lost`)).json.data.issuer_id).toBe(result.structuredContent?.issuer_id);
      }
      expect(text(result)).not.toMatch(/internal error|this is a bug|may or may not/i);
    });
  }
});

describe("issue_pki_certificate under faults", () => {
  for (const mode of ["drop-after", "garbage-body", "html-502", "truncate-body"] as FaultMode[]) {
    it(`after ${mode}, says a certificate may have been issued whose private key is lost, never that none was issued`, async () => {
      const before = await rootSerials();
      proxy.inject({ method: ["POST", "PUT"], path: new RegExp(`^${escape(ROOT)}/issue/web$`), mode });
      let result: ToolResult;
      try {
        result = await call(client, "issue_pki_certificate", { mount: ROOT, role_name: "web", common_name: "lost.example.com", ttl: "1h" });
      } finally {
        proxy.clear();
      }
      const issued = [...(await rootSerials())].filter((s) => !before.has(s));
      // Vault applied it behind each of these faults.
      expect(issued).toHaveLength(1);
      expect(result.isError).toBe(true);
      const words = text(result);
      expect(words).not.toMatch(/no certificate was issued|nothing was changed/i);
      expect(words).toContain("may or may not have issued");
      expect(words).toContain("private key");
      expect(words).toContain("issue_pki_certificate again");
    });
  }

  it("after a reset before sending, still does not claim that nothing was issued", async () => {
    proxy.inject({ method: ["POST", "PUT"], path: new RegExp(`^${escape(ROOT)}/issue/web$`), mode: "reset-before" });
    let result: ToolResult;
    try {
      result = await call(client, "issue_pki_certificate", { mount: ROOT, role_name: "web", common_name: "reset.example.com", ttl: "1h" });
    } finally {
      proxy.clear();
    }
    // The client cannot tell a reset before Vault read the request from one after: the answer must not be sure either way.
    expect(result.isError).toBe(true);
    expect(text(result)).not.toMatch(/no certificate was issued/i);
  });
});
