// Builds a Go program the tests use (test/goclient, test/promparse, test/kubeapi) into .cache/, once per source change.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { run } from "../interop/server-process.ts";

const repoRoot = resolve(import.meta.dir, "..", "..");
const RECIPE = "CGO_ENABLED=0 go build -trimpath -modfile (1)";

export interface GoToolOptions {
  /** The package to build, when it is not the module's own main.go (e.g. a dependency's command listed under `tool`). */
  pkg?: string;
  /** How long `go build` may take (default 5 minutes). */
  timeoutMs?: number;
  /** Say on stderr that a build started, how long it has run every 30 s, and when it ended. */
  progress?: boolean;
}

/**
 * The binary built from test/<name> with `modfile` (default go.mod), at .cache/<name>/<variant>/<basename>; rebuilt only
 * when main.go, the go.mod/go.sum pair, the package, the recipe or the Go version changed.
 */
export async function buildGoTool(name: string, modfile = "go.mod", options: GoToolOptions = {}): Promise<string> {
  const go = Bun.which("go");
  if (!go) throw new Error(`test/${name} needs a Go toolchain on PATH (see test/${name}/${modfile} for the version)`);
  const source = join(repoRoot, "test", name);
  const sum = modfile.replace(/\.mod$/, ".sum");
  const goVersion = (await run([go, "env", "GOVERSION"])).stdout.trim();
  const pkg = options.pkg ?? ".";
  const hash = createHash("sha256").update(RECIPE).update(goVersion);
  // Only a named package enters the stamp, so the binaries built from main.go keep theirs.
  if (pkg !== ".") hash.update(`\0pkg\0${pkg}`);
  for (const file of ["main.go", modfile, sum]) {
    if (file === "main.go" && pkg !== "." && !existsSync(join(source, file))) continue;
    hash.update(`\0${file}\0`).update(readFileSync(join(source, file)));
  }
  const stamp = hash.digest("hex");
  const dir = join(repoRoot, ".cache", name, modfile.replace(/\.mod$/, ""));
  const binary = join(dir, basename(pkg === "." ? name : pkg));
  if (existsSync(binary) && existsSync(`${binary}.stamp`) && readFileSync(`${binary}.stamp`, "utf8").trim() === stamp) return binary;
  mkdirSync(dir, { recursive: true });
  const partial = `${binary}.tmp-${process.pid}`;
  const started = Date.now();
  const say = (what: string) => process.stderr.write(`[go-tool] ${what}\n`);
  if (options.progress) say(`building ${pkg === "." ? `test/${name}` : pkg} with go build (once per source change)`);
  const ticker = options.progress ? setInterval(() => say(`still building ${basename(binary)}: ${Math.round((Date.now() - started) / 1000)} s`), 30_000) : undefined;
  const built = await run([go, "build", "-trimpath", `-modfile=${modfile}`, "-o", partial, pkg], {
    cwd: source,
    env: { ...process.env, CGO_ENABLED: "0" },
    timeoutMs: options.timeoutMs ?? 300_000,
  }).finally(() => clearInterval(ticker));
  if (built.code !== 0) throw new Error(`go build of test/${name} (${modfile}) failed:\n${built.stdout}${built.stderr}`);
  if (options.progress) say(`built ${basename(binary)} in ${Math.round((Date.now() - started) / 1000)} s`);
  renameSync(partial, binary);
  writeFileSync(`${binary}.stamp`, `${stamp}\n`);
  return binary;
}
