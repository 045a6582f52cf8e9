// Builds a small Go program the tests use (test/goclient, test/promparse) into .cache/, once per source change.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { run } from "../interop/server-process.ts";

const repoRoot = resolve(import.meta.dir, "..", "..");
const RECIPE = "CGO_ENABLED=0 go build -trimpath -modfile (1)";

/**
 * The binary built from test/<name> with `modfile` (default go.mod), at .cache/<name>/<variant>/<name>; rebuilt only when
 * main.go, the go.mod/go.sum pair, the recipe or the Go version changed.
 */
export async function buildGoTool(name: string, modfile = "go.mod"): Promise<string> {
  const go = Bun.which("go");
  if (!go) throw new Error(`test/${name} needs a Go toolchain on PATH (see test/${name}/${modfile} for the version)`);
  const source = join(repoRoot, "test", name);
  const sum = modfile.replace(/\.mod$/, ".sum");
  const goVersion = (await run([go, "env", "GOVERSION"])).stdout.trim();
  const hash = createHash("sha256").update(RECIPE).update(goVersion);
  for (const file of ["main.go", modfile, sum]) hash.update(`\0${file}\0`).update(readFileSync(join(source, file)));
  const stamp = hash.digest("hex");
  const dir = join(repoRoot, ".cache", name, modfile.replace(/\.mod$/, ""));
  const binary = join(dir, name);
  if (existsSync(binary) && existsSync(`${binary}.stamp`) && readFileSync(`${binary}.stamp`, "utf8").trim() === stamp) return binary;
  mkdirSync(dir, { recursive: true });
  const partial = `${binary}.tmp-${process.pid}`;
  const built = await run([go, "build", "-trimpath", `-modfile=${modfile}`, "-o", partial, "."], {
    cwd: source,
    env: { ...process.env, CGO_ENABLED: "0" },
    timeoutMs: 300_000,
  });
  if (built.code !== 0) throw new Error(`go build of test/${name} (${modfile}) failed:\n${built.stdout}${built.stderr}`);
  renameSync(partial, binary);
  writeFileSync(`${binary}.stamp`, `${stamp}\n`);
  return binary;
}
