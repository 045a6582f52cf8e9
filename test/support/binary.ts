// Compiles the single binary once per test run (as `bun run build` does, into .cache/), for tests that exec it.
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { isAlive } from "./vault.ts";

const repoRoot = resolve(import.meta.dir, "..", "..");
let built: Promise<string> | undefined;

/** Path of a freshly compiled vault-mcp-server binary; concurrent callers share one build. */
export function compiledBinary(): Promise<string> {
  built ??= (async () => {
    const dir = join(repoRoot, ".cache", "bin");
    mkdirSync(dir, { recursive: true });
    removeOrphans(dir);
    const out = join(dir, `vault-mcp-server-${process.pid}`);
    const pkg = await Bun.file(join(repoRoot, "package.json")).json();
    // The build script itself, so the tests exercise exactly what ships; only the output path differs.
    const script = String(pkg.scripts.build).replace("--outfile dist/vault-mcp-server", `--outfile ${out}`);
    const [cmd, ...args] = script.split(/\s+/);
    const proc = Bun.spawn([cmd === "bun" ? process.execPath : (cmd as string), ...args], { cwd: repoRoot, stdout: "pipe", stderr: "pipe" });
    const code = await proc.exited;
    if (code !== 0 || !existsSync(out)) throw new Error(`bun build --compile failed (${code}): ${await new Response(proc.stderr).text()}`);
    process.on("exit", () => {
      try {
        require("node:fs").rmSync(out, { force: true });
      } catch {}
    });
    return out;
  })();
  return built;
}

/** Binaries whose exit hook never ran (a killed run; bun test exits without it), 111 MB each: removed once their process is gone. */
function removeOrphans(dir: string): void {
  for (const name of readdirSync(dir)) {
    const pid = Number(/^vault-mcp-server-(\d+)$/.exec(name)?.[1]);
    if (!pid || pid === process.pid || isAlive(pid)) continue;
    rmSync(join(dir, name), { force: true });
  }
}
