// Dockerfile.distroless and .dockerignore: a two-stage build whose runtime stage is the binary alone, non-root, with no shell.
import { describe, expect, it } from 'bun:test';
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './tools.ts';

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions with continuation lines joined and comments dropped; enough for these checks. */
function instructions(text: string): Instruction[] {
  const joined = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const m = /^(\w+)\s+([\s\S]*)$/.exec(l);
      return { op: (m?.[1] ?? l).toUpperCase(), args: m?.[2] ?? '' };
    });
}

const dockerfile = readFileSync(join(repoRoot, 'Dockerfile.distroless'), 'utf8');
const all = instructions(dockerfile);
const froms = all.map((ins, i) => ({ ins, i })).filter(({ ins }) => ins.op === 'FROM');
const finalStage = all.slice(froms.at(-1)?.i ?? 0);
const buildStage = all.slice(froms[0]?.i ?? 0, froms.at(-1)?.i ?? 0);
const args = Object.fromEntries(
  all.filter((i) => i.op === 'ARG').map((i) => i.args.split('=') as [string, string]),
);

/** FROM ${X} resolved through the ARG defaults. */
function image(from: Instruction): string {
  const ref = from.args.split(/\s+/)[0] as string;
  return ref.replace(/^\$\{(\w+)\}$/, (_, name: string) => args[name] ?? '');
}

describe('Dockerfile.distroless', () => {
  it('builds in one stage and ships from a second one', () => {
    expect(froms).toHaveLength(2);
    expect(froms[0]?.ins.args).toMatch(/\s+AS\s+build$/i);
  });

  it('installs exactly the locked dependencies with npm ci, then compiles with `bun run build`', () => {
    const runs = buildStage.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(runs.some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    expect(runs.some((r) => /\bbun run build\b/.test(r))).toBe(true);
    expect(buildStage.some((i) => i.op === 'COPY' && i.args.includes('package-lock.json'))).toBe(true);
  });

  it('copies the binary the build script writes (dist/vault-mcp-server) to /vault-mcp-server, read-only and root-owned', () => {
    const build = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.build;
    expect(build).toContain('--outfile dist/vault-mcp-server');
    const copies = finalStage.filter((i) => i.op === 'COPY');
    expect(copies).toHaveLength(1);
    expect(copies[0]?.args).toMatch(/--from=build\b/);
    expect(copies[0]?.args).toMatch(/--chown=0:0\b/);
    expect(copies[0]?.args).toMatch(/--chmod=0?555\b/);
    expect(copies[0]?.args).toMatch(/\/dist\/vault-mcp-server \/vault-mcp-server$/);
  });

  it('runs on distroless base-nossl (glibc, no libssl, no shell), pinned to a tag, and build on Debian 12 like it', () => {
    expect(image(froms.at(-1)?.ins as Instruction)).toBe('gcr.io/distroless/base-nossl-debian12:nonroot');
    expect(image(froms[0]?.ins as Instruction)).toMatch(/^node:\d+-bookworm(-slim)?$/);
    for (const { ins } of froms) expect(image(ins)).not.toMatch(/:latest$|^[^:]+$/);
  });

  it('runs nothing at build time in the runtime stage, since that image has no shell', () => {
    expect(finalStage.filter((i) => i.op === 'RUN')).toEqual([]);
  });

  it('runs as the numeric non-root user 65532, so runAsNonRoot can verify it', () => {
    const users = finalStage.filter((i) => i.op === 'USER').map((i) => i.args);
    expect(users).toEqual(['65532:65532']);
  });

  it('listens on 0.0.0.0:8084 and exposes 8084', () => {
    expect(finalStage.filter((i) => i.op === 'EXPOSE').map((i) => i.args)).toEqual(['8084']);
    const env = finalStage.filter((i) => i.op === 'ENV').map((i) => i.args).join(' ');
    expect(env).toMatch(/\bMCP_HOST=0\.0\.0\.0\b/);
    expect(env).toMatch(/\bMCP_PORT=8084\b/);
  });

  it('starts the binary directly in exec form, serving HTTP by default', () => {
    expect(finalStage.filter((i) => i.op === 'ENTRYPOINT').map((i) => JSON.parse(i.args))).toEqual([['/vault-mcp-server']]);
    expect(finalStage.filter((i) => i.op === 'CMD')).toEqual([]);
  });

  it('declares no HEALTHCHECK (Kubernetes probes /healthz and /readyz; there is no curl to run one)', () => {
    expect(all.filter((i) => i.op === 'HEALTHCHECK')).toEqual([]);
  });

  it('puts no token or secret into the image through ENV or ARG', () => {
    const declared = all.filter((i) => i.op === 'ENV' || i.op === 'ARG').map((i) => i.args);
    expect(declared.filter((d) => /TOKEN|SECRET|PASSWORD|KEY/i.test(d))).toEqual([]);
  });
});

describe('.dockerignore', () => {
  const lines = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('ignores everything, then lets in only what the build stage copies', () => {
    expect(lines[0]).toBe('*');
    const allowed = lines.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
    expect(allowed.sort()).toEqual(['.npmrc', 'build', 'bunfig.toml', 'package-lock.json', 'package.json', 'src', 'tsconfig.json']);
    // What the build script reads besides the sources (the recorded bytecode layout) reaches the build context.
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: { build: string } };
    for (const [, file = ''] of pkg.scripts.build.matchAll(/--bytecode-order=(\S+)/g)) expect(allowed.some((a) => file === a || file.startsWith(`${a}/`))).toBe(true);
    const copied = instructions(dockerfile)
      .filter((i) => i.op === 'COPY' && !i.args.includes('--from'))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(copied.filter((c) => !allowed.includes(c))).toEqual([]);
  });
});

describe('a binary compiled by this Bun', () => {
  const ldd = Bun.which('ldd');
  it.skipIf(!ldd)('links only glibc, which distroless base-nossl provides', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bun-compile-'));
    try {
      await Bun.write(join(dir, 'main.ts'), 'console.log("ok");\n');
      const bun = join(repoRoot, 'node_modules', '.bin', 'bun');
      const build = Bun.spawnSync([bun, 'build', '--compile', '--bytecode', join(dir, 'main.ts'), '--outfile', join(dir, 'main')], { stderr: 'pipe' });
      expect(build.exitCode, build.stderr.toString()).toBe(0);
      const libs = Bun.spawnSync([ldd as string, join(dir, 'main')]).stdout.toString().match(/^\s*(\S+\.so[.\d]*)/gm) ?? [];
      const names = libs.map((l) => l.trim().replace(/\.so.*$/, ''));
      const glibc = /^(linux-vdso|linux-gate|ld-linux.*|libc|libm|libdl|libpthread|librt|libresolv)$/;
      expect(names.filter((n) => !glibc.test(n.replace(/^.*\//, '')))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A free TCP port on loopback. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function sh(cmd: string[]): { code: number; out: string } {
  const r = Bun.spawnSync(cmd, { stdout: 'pipe', stderr: 'pipe' });
  return { code: r.exitCode, out: `${r.stdout}${r.stderr}`.trim() };
}

// The image cannot be built here (no Docker engine), so this rebuilds its runtime stage by hand: a root holding
// only glibc, the binary (root-owned, 0555) and a token file readable by group 65532, bind-mounted read-only,
// entered with chroot as 65532:65532. Needs root, for chroot and mount; skipped elsewhere.
const chroot = Bun.which('chroot') ?? (Bun.file('/usr/sbin/chroot').size > 0 ? '/usr/sbin/chroot' : undefined);
const canChroot = process.getuid?.() === 0 && !!chroot && !!Bun.which('mount') && !!Bun.which('umount');
if (!canChroot) console.warn('[deploy] skipping the distroless-like run of the binary: it needs root, chroot and mount');

describe('the built binary, run the way the distroless image runs it', () => {
  it.skipIf(!canChroot)('starts as 65532 on a read-only root with only glibc, answers /healthz, and reports Vault unreachable on /readyz', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'distroless-like-'));
    const root = join(dir, 'root');
    const mounted: string[] = [];
    let server: ReturnType<typeof Bun.spawn> | undefined;
    try {
      // The build script's own command, writing elsewhere than dist/.
      const script = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.build as string;
      const binary = join(dir, 'vault-mcp-server');
      const cmd = script.replace('--outfile dist/vault-mcp-server', `--outfile ${binary}`).replace(/^bun /, `${join(repoRoot, 'node_modules', '.bin', 'bun')} `);
      const build = Bun.spawnSync(['sh', '-c', cmd], { cwd: repoRoot, stdout: 'pipe', stderr: 'pipe' });
      expect(build.exitCode, build.stderr.toString()).toBe(0);

      for (const d of ['lib/x86_64-linux-gnu', 'lib/aarch64-linux-gnu', 'lib64', 'etc', 'proc', 'tmp', 'var/run/secrets/vault']) mkdirSync(join(root, d), { recursive: true });
      const arch = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
      for (const lib of ['libc.so.6', 'libm.so.6', 'libdl.so.2', 'libpthread.so.0', 'librt.so.1']) {
        copyFileSync(join('/lib', arch, lib), join(root, 'lib', arch, lib));
      }
      const loader = process.arch === 'arm64' ? '/lib/ld-linux-aarch64.so.1' : '/lib64/ld-linux-x86-64.so.2';
      copyFileSync(loader, join(root, loader));
      copyFileSync(binary, join(root, 'vault-mcp-server'));
      chmodSync(join(root, 'vault-mcp-server'), 0o555);
      writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n');
      // As the Secret volume with defaultMode 0440 and fsGroup 65532 presents it.
      const tokenFile = join(root, 'var', 'run', 'secrets', 'vault', 'token');
      writeFileSync(tokenFile, 'not-a-real-token');
      chownSync(tokenFile, 0, 65532);
      chmodSync(tokenFile, 0o440);

      for (const [args, target] of [
        [['--bind', root, root], root],
        [['-o', 'remount,ro,bind', root], undefined],
        [['-t', 'proc', 'proc', join(root, 'proc')], join(root, 'proc')],
      ] as const) {
        const r = sh(['mount', ...args]);
        expect(r.code, r.out).toBe(0);
        if (target) mounted.unshift(target);
      }
      expect(sh(['touch', join(root, 'probe')]).code).not.toBe(0);

      const port = await freePort();
      server = Bun.spawn([chroot as string, '--userspec=65532:65532', root, '/vault-mcp-server'], {
        env: { VAULT_ADDR: 'http://127.0.0.1:1', VAULT_TOKEN_FILE: '/var/run/secrets/vault/token', MCP_HOST: '127.0.0.1', MCP_PORT: String(port) },
        stdout: 'pipe',
        stderr: 'pipe',
      });
      let health: Response | undefined;
      for (let i = 0; i < 100 && !health; i++) {
        health = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
        if (!health) await Bun.sleep(100);
      }
      expect(health?.status).toBe(200);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(503);
      expect(JSON.stringify(await ready.json())).toMatch(/could not be reached|ECONNREFUSED/);
    } finally {
      server?.kill();
      await server?.exited;
      // Unmount before removing anything: rm must never walk into a mounted /proc.
      const stuck = mounted.filter((m) => sh(['umount', m]).code !== 0 && sh(['umount', '-l', m]).code !== 0);
      if (stuck.length === 0) rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
