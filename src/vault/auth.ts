// Token sources: a fixed token (VAULT_TOKEN), or a token file re-read when it changes (a rotated Kubernetes Secret).
import { readFileSync, statSync } from "node:fs";
import type { TokenSource } from "./client.ts";
import { StaticToken } from "./client.ts";

/** Reads the token from a file, again whenever the file's modification time or size changes. */
export class FileToken implements TokenSource {
  private value = "";
  private stamp = "";

  constructor(private readonly file: string) {
    this.reload();
  }

  private reload(): void {
    const st = statSync(this.file);
    const stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    if (stamp === this.stamp) return;
    const token = readFileSync(this.file, "utf8").trim();
    if (!token) throw new Error(`VAULT_TOKEN_FILE ${this.file} is empty`);
    this.value = token;
    this.stamp = stamp;
  }

  async token(): Promise<string> {
    try {
      this.reload();
    } catch {
      // A Secret being swapped can vanish for an instant: keep the last good token.
      if (!this.value) throw new Error(`cannot read the Vault token from ${this.file}`);
    }
    return this.value;
  }
}

export function tokenSourceFor(settings: { token?: string; tokenFile?: string }): TokenSource {
  if (settings.tokenFile) return new FileToken(settings.tokenFile);
  if (settings.token) return new StaticToken(settings.token);
  throw new Error("no Vault token configured");
}
