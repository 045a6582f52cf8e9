// What engine (and KV version) a mount is, asked once per mount and cached, so KV calls cost one Vault request.
import type { VaultClient } from "./client.ts";
import { VaultError } from "./errors.ts";
import type { SafePath } from "./paths.ts";

export interface MountInfo {
  /** The mount's path without trailing slash, as Vault reports it. */
  path: string;
  type: string;
  /** 1 or 2 for KV mounts; undefined for other engines. */
  kvVersion?: 1 | 2;
}

/** The mount asked for does not exist (or this token can see nothing under it). */
export class MountNotFound extends Error {
  constructor(
    readonly mount: string,
    /** The mount that does contain this path, when the caller put part of the secret path in the mount. */
    readonly enclosing?: string,
  ) {
    super(`no secrets engine is mounted at ${mount}/`);
    this.name = "MountNotFound";
  }
}

/** Vault refused both ways of learning what is mounted at `mount`: the token may touch nothing under it. */
export class MountNotVisible extends Error {
  constructor(readonly mount: string) {
    super(`this token may not see the mount ${mount}/`);
    this.name = "MountNotVisible";
  }
}

const TTL_MS = 60_000;

export class MountInfoCache {
  private readonly cache = new Map<string, { info: MountInfo; until: number }>();
  private readonly pending = new Map<string, Promise<MountInfo>>();

  constructor(
    private readonly vault: VaultClient,
    private readonly ttlMs = TTL_MS,
    /** Told of every forget(): one identity's caches tell the others' (src/vault/identity.ts) that a mount changed. */
    private readonly onForget?: (mount: string) => void,
  ) {}

  async get(mount: SafePath): Promise<MountInfo> {
    const key = mount.display;
    const hit = this.cache.get(key);
    if (hit && hit.until > Date.now()) return hit.info;
    // Concurrent first calls for one mount share one lookup.
    let p = this.pending.get(key);
    if (!p) {
      p = this.lookup(mount).finally(() => this.pending.delete(key));
      this.pending.set(key, p);
    }
    const info = await p;
    this.cache.set(key, { info, until: Date.now() + this.ttlMs });
    return info;
  }

  /** Forget a mount after it was created, removed or retuned. */
  forget(mount: string): void {
    this.forgetHere(mount);
    this.onForget?.(mount);
  }

  /** forget() without telling anyone else. */
  forgetHere(mount: string): void {
    this.cache.delete(mount.replace(/\/+$/, ""));
  }

  private async lookup(mount: SafePath): Promise<MountInfo> {
    // sys/internal/ui/mounts/<path> answers for any token with a capability under the mount, unlike sys/mounts.
    try {
      const res = await this.vault.read<{ type?: string; path?: string; options?: { version?: string } | null }>(
        `sys/internal/ui/mounts/${mount.encoded}`,
      );
      if (res?.data?.type) {
        const path = (res.data.path ?? mount.display).replace(/\/+$/, "");
        // The endpoint resolves the longest mount prefix; a different answer means no mount sits exactly here.
        if (path !== mount.display) throw new MountNotFound(mount.display, path);
        return describe(path, res.data.type, res.data.options?.version);
      }
      if (res === null) throw new MountNotFound(mount.display);
    } catch (err) {
      if (!(err instanceof VaultError) || !(err.isForbidden || err.status === 400)) throw err;
      if (err.isForbidden && err.failure === "http") {
        // Both refused: the advice is about the mount the caller named, not about sys/mounts, which no tool needs.
        return this.fromSysMounts(mount).catch((again: unknown) => {
          throw again instanceof VaultError && again.isForbidden && again.failure === "http" ? new MountNotVisible(mount.display) : again;
        });
      }
    }
    return this.fromSysMounts(mount);
  }

  private async fromSysMounts(mount: SafePath): Promise<MountInfo> {
    const res = await this.vault.read<Record<string, { type?: string; options?: { version?: string } | null }>>("sys/mounts");
    const entry = res?.data?.[`${mount.display}/`];
    if (!entry?.type) throw new MountNotFound(mount.display);
    return describe(mount.display, entry.type, entry.options?.version);
  }
}

function describe(path: string, type: string, version: string | undefined): MountInfo {
  if (type === "kv" || type === "generic") return { path, type, kvVersion: version === "2" ? 2 : 1 };
  return { path, type };
}
