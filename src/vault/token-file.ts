// A secret held in a file (token, JWT, AppRole secret_id), re-read when it changes: a rewrite, a rename, or a Kubernetes `..data` swap.
import { readFileSync, type Stats, statSync } from "node:fs";

// stat follows symlinks, so a Secret volume's `..data` swap shows up as another inode; ctime catches in-place rewrites.
function stampOf(st: Stats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

export class SecretFile {
  private value = "";
  private stamp = "";

  /** Reads the file once now, so a missing or empty file fails at start-up with the setting named. */
  constructor(
    /** The setting that names the file (VAULT_TOKEN_FILE, ...), for error texts. */
    readonly setting: string,
    readonly path: string,
  ) {
    this.read();
  }

  /** True when the file is not the one last read. A file that is missing for a moment (mid-swap) is not a change. */
  changed(): boolean {
    try {
      return stampOf(statSync(this.path)) !== this.stamp;
    } catch {
      return false;
    }
  }

  /** The file's content, trimmed; the last good content if it is missing or empty for a moment. */
  read(): string {
    let stamp: string;
    let text: string;
    try {
      // stat before read: if the file changes in between, the next changed() is true and we read again.
      stamp = stampOf(statSync(this.path));
      text = readFileSync(this.path, "utf8").trim();
    } catch (err) {
      if (this.value) return this.value;
      throw new Error(`${this.setting}: cannot read ${this.path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    if (!text) {
      if (this.value) return this.value;
      throw new Error(`${this.setting}: ${this.path} is empty`);
    }
    this.value = text;
    this.stamp = stamp;
    return text;
  }
}
