// The flows users ask for, end to end: an agent's words in, Vault's state out. (PKI's flow lives in tools/pki.test.ts.)
import { describe, expect, it } from "bun:test";
import { connectClient, ok, text, unique, vaultApi } from "./support/mcp.ts";

describe("scenarios", () => {
  it('"Store the database password in Vault", then read it back', async () => {
    const client = await connectClient();
    const path = `myapp/database-${unique("s")}`;
    const w = await ok(client, "write_secret", { path, key: "password", value: "correct horse battery staple" });
    expect(text(w)).toStartWith(`Secret stored successfully at secret/${path}\nVersion: 1\n`);
    expect(text(w)).toEndWith(`You can retrieve it with: read_secret(mount="secret", path="${path}")`);
    const r = await ok(client, "read_secret", { path, key: "password" });
    expect(r.structuredContent?.data).toEqual({ password: "correct horse battery staple" });
    // And Vault itself holds it where the agent was told.
    expect((await vaultApi("GET", `secret/data/${path}`)).json.data.data.password).toBe("correct horse battery staple");
  });

  it('"Create a kv-v2 mount myapp/ and use it"', async () => {
    const client = await connectClient();
    const mount = unique("myapp");
    const created = await ok(client, "create_mount", { path: mount, type: "kv-v2", description: "myapp secrets" });
    expect(text(created)).toContain(`Mounted a kv-v2 secrets engine at ${mount}/`);
    await ok(client, "write_secret", { mount, path: "config", data: { feature_flag: "on", region: "eu" } });
    const listed = await ok(client, "list_secrets", { mount });
    expect(listed.structuredContent?.keys).toEqual(["config"]);
    const mounts = (await ok(client, "list_mounts")).structuredContent?.mounts as { path: string; description: string }[];
    expect(mounts.find((m) => m.path === mount)?.description).toBe("myapp secrets");
  });

  it('"Save the payment API key at secret/payment/api"', async () => {
    const client = await connectClient();
    const path = `payment-${unique("p")}/api`;
    await ok(client, "write_secret", { mount: "secret", path, key: "api_key", value: "pk_live_0123456789" });
    const r = await ok(client, "read_secret", { mount: "secret", path });
    expect(r.structuredContent).toMatchObject({ data: { api_key: "pk_live_0123456789" }, version: 1 });
  });
});
