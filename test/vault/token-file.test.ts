// A secret file re-read when it changes: in-place rewrites, atomic renames, Kubernetes `..data` swaps, brief absences.
import { afterAll, describe, expect, it } from "bun:test";
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SecretFile } from "../../src/vault/token-file.ts";

const dir = mkdtempSync(join(tmpdir(), "secret-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (content: string) => {
  const path = join(dir, `f${++n}`);
  writeFileSync(path, content);
  return path;
};

describe("SecretFile", () => {
  it("reads the file trimmed, and reports no change until there is one", () => {
    const f = new SecretFile("VAULT_TOKEN_FILE", fresh("  abc\n"));
    expect(f.read()).toBe("abc");
    expect(f.changed()).toBe(false);
  });

  it("notices a rewrite in place, even to the same length", () => {
    const path = fresh("aaaa");
    const f = new SecretFile("VAULT_TOKEN_FILE", path);
    writeFileSync(path, "bbbb");
    expect(f.changed()).toBe(true);
    expect(f.read()).toBe("bbbb");
    expect(f.changed()).toBe(false);
  });

  it("notices a file renamed over it", () => {
    const path = fresh("old");
    const f = new SecretFile("VAULT_TOKEN_FILE", path);
    writeFileSync(`${path}.new`, "new");
    renameSync(`${path}.new`, path);
    expect(f.changed()).toBe(true);
    expect(f.read()).toBe("new");
  });

  it("notices a Kubernetes Secret volume swapping its ..data symlink", () => {
    const volume = join(dir, "volume");
    mkdirSync(join(volume, "..v1"), { recursive: true });
    writeFileSync(join(volume, "..v1", "token"), "first");
    symlinkSync("..v1", join(volume, "..data"));
    symlinkSync("..data/token", join(volume, "token"));
    const f = new SecretFile("VAULT_TOKEN_FILE", join(volume, "token"));
    mkdirSync(join(volume, "..v2"));
    writeFileSync(join(volume, "..v2", "token"), "second");
    symlinkSync("..v2", join(volume, "..tmp"));
    renameSync(join(volume, "..tmp"), join(volume, "..data"));
    rmSync(join(volume, "..v1"), { recursive: true });
    expect(f.changed()).toBe(true);
    expect(f.read()).toBe("second");
  });

  it("keeps the last content while the file is missing or empty for a moment", () => {
    const path = fresh("kept");
    const f = new SecretFile("VAULT_TOKEN_FILE", path);
    rmSync(path);
    expect(f.changed()).toBe(false);
    expect(f.read()).toBe("kept");
    writeFileSync(path, "");
    expect(f.read()).toBe("kept");
  });

  it("fails at the start, naming the setting, when the file is missing or empty", () => {
    expect(() => new SecretFile("VAULT_APPROLE_SECRET_ID_FILE", join(dir, "absent"))).toThrow(
      `VAULT_APPROLE_SECRET_ID_FILE: cannot read ${join(dir, "absent")} (ENOENT)`,
    );
    expect(() => new SecretFile("VAULT_K8S_TOKEN_PATH", fresh("\n"))).toThrow(/^VAULT_K8S_TOKEN_PATH: .* is empty$/);
  });
});
