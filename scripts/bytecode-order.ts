// `bun run bytecode-order`: records which functions the server runs when it starts and serves the common calls, into
// build/bytecode.order, which `bun run build` passes to --bytecode-order so that bytecode is laid out at the front of
// the executable (less of the file read and decoded: a smaller, faster start). The profile holds hashes of functions'
// syntax, never source; a profile from an older build still applies, so re-record when bytecodeOrderStats' "cold" grows.
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { freePort, startResponder } from "../bench/servers.ts";

const root = resolve(import.meta.dir, "..");
const out = join(root, "build", "bytecode.order");
const tmp = join(root, ".cache", "bytecode-order");
mkdirSync(tmp, { recursive: true });
const binary = join(tmp, "vault-mcp-server");

// Built without a profile, as the build script builds otherwise.
const pkg = await Bun.file(join(root, "package.json")).json();
const args = String(pkg.scripts.build)
  .split(/\s+/)
  .slice(1)
  .filter((a) => !a.startsWith("--bytecode-order"))
  .map((a, i, all) => (all[i - 1] === "--outfile" ? binary : a));
const build = Bun.spawnSync([process.execPath, ...args], { cwd: root, stdout: "inherit", stderr: "inherit" });
if (build.exitCode !== 0 || !existsSync(binary)) throw new Error("bun build failed");

const responder = await startResponder();
const port = await freePort();
const recording = join(tmp, "run.order");
rmSync(recording, { force: true });
const child = Bun.spawn([binary], {
  env: {
    PATH: process.env.PATH ?? "",
    VAULT_ADDR: responder.addr,
    VAULT_TOKEN: "bench-token",
    MCP_HOST: "127.0.0.1",
    MCP_PORT: String(port),
    LOG_LEVEL: "warn",
    MCP_AUDIT_LOG: "off",
    BUN_BYTECODE_ORDER_OUT: recording,
  },
  stdin: "ignore",
  stdout: "inherit",
  stderr: "inherit",
});
const post = async (body: unknown) => {
  const res = await fetch(`http://127.0.0.1:${port}/mcp`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: JSON.stringify(body),
  });
  return res.text();
};
// The way clients start: tools/list (the cold-start probe), initialize, then the calls the bench mix makes.
for (let i = 0; ; i++) {
  try {
    await post({ jsonrpc: "2.0", id: 0, method: "tools/list" });
    break;
  } catch {
    if (i > 500) throw new Error("the server did not start");
    await Bun.sleep(10);
  }
}
await post({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "order", version: "1" } } });
for (let i = 0; i < 20; i++) {
  await post({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "read_secret", arguments: { mount: "secret", path: `bench/s00${i % 10}` } } });
  await post({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "write_secret", arguments: { mount: "secret", path: "bench/w0", key: "counter", value: String(i) } } });
  await post({ jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "list_secrets", arguments: { mount: "secret", path: "bench" } } });
}
child.kill("SIGTERM");
await child.exited;
await responder.stop();
if (!existsSync(recording)) throw new Error("the server exited without writing a profile");
mkdirSync(join(root, "build"), { recursive: true });
await Bun.write(out, Bun.file(recording));
process.stdout.write(`wrote ${out} (${Bun.file(out).size} bytes)\n`);
process.exit(0);
