// One error type for every failed Vault call: method, path, status and Vault's own errors[], never the token.

/**
 * How a request failed, which decides what may be said about Vault's state afterwards:
 * - "http": Vault answered with an error status and its own JSON errors[] (it refused; nothing was applied).
 * - "unreachable": no byte of the request left (refused connection, DNS, TLS handshake): nothing was applied.
 * - "lost": the request may have reached Vault, then the connection broke before a whole answer came back.
 * - "timeout": no whole answer in time; the request may have been applied.
 * - "unreadable": an answer came back but was cut off or is not Vault's JSON (a proxy's HTML page, garbage).
 * - "sealed": Vault answered that it is sealed.
 * - "bad-token": Vault refused the server's token itself (lookup-self confirmed it invalid, expired or revoked).
 */
export type VaultFailure = "http" | "unreachable" | "lost" | "timeout" | "unreadable" | "sealed" | "bad-token";

/** Failures after which a write may or may not have been applied. */
const UNCERTAIN: ReadonlySet<VaultFailure> = new Set(["lost", "timeout", "unreadable"]);

/** Vault's errors[] without Go's multierror wrapping ("1 error occurred:\n\t* ..."), one line each. */
export function cleanVaultErrors(errors: readonly string[]): string[] {
  return errors
    .map((e) =>
      e
        .replace(/^\d+ errors? occurred:\s*/, "")
        .replace(/^\s*\*\s*/gm, "")
        .trim()
        .replace(/\s*\n\s*/g, "; "),
    )
    .filter((e) => e !== "");
}

export class VaultError extends Error {
  /** Vault's `errors[]`, unwrapped by cleanVaultErrors; for other failures, what went wrong in a few words. */
  readonly errors: readonly string[];

  constructor(
    readonly method: string,
    /** The API path below /v1/, without query string. */
    readonly path: string,
    readonly status: number,
    errors: readonly string[],
    readonly failure: VaultFailure = "http",
    /** Where the request was sent (VAULT_ADDR), for errors that are about reaching it. */
    readonly addr = "",
  ) {
    const clean = cleanVaultErrors(errors);
    super(VaultError.summary(method, path, status, clean, failure, addr));
    this.errors = clean;
    this.name = "VaultError";
  }

  private static summary(method: string, path: string, status: number, errors: readonly string[], failure: VaultFailure, addr: string): string {
    const why = errors.join("; ");
    switch (failure) {
      case "unreachable":
        return `Vault at ${addr} could not be reached (${why})`;
      case "timeout":
        return `Vault at ${addr} did not answer ${method} ${path} in time`;
      case "lost":
        return `the connection to Vault at ${addr} broke before its answer to ${method} ${path} arrived (${why})`;
      case "unreadable":
        return `Vault's answer to ${method} ${path} was cut off or unreadable (${why})`;
      case "bad-token":
        return `Vault refused the server's token on ${method} ${path}: it is invalid, expired or revoked`;
      default: {
        const detail = errors.length > 0 ? `: ${why}` : "";
        return `Vault ${method} ${path} failed with ${status}${detail}`;
      }
    }
  }

  get isNotFound(): boolean {
    return this.failure === "http" && this.status === 404;
  }

  get isForbidden(): boolean {
    return (this.failure === "http" || this.failure === "bad-token") && this.status === 403;
  }

  /** Vault answers 400 with this text when a check-and-set version does not match (not when one is required and missing). */
  get isCasMismatch(): boolean {
    return this.failure === "http" && this.status === 400 && this.errors.some((e) => /check-and-set/i.test(e) && !/required/i.test(e));
  }

  /** KV v2 with cas_required set: a write without a check-and-set version is refused. Retrying the same write cannot help. */
  get isCasRequired(): boolean {
    return this.failure === "http" && this.status === 400 && this.errors.some((e) => /check-and-set parameter required/i.test(e));
  }

  /** The request may or may not have been applied: its answer was lost, late, cut off or not Vault's. */
  get isUncertain(): boolean {
    return UNCERTAIN.has(this.failure);
  }

  /** True for requests that cannot change anything (reads and lists). */
  get isRead(): boolean {
    return this.method === "GET" || this.method === "LIST";
  }
}

/** No token could be had: a login failed or a credential file could not be read. Nothing was sent to the API. */
export class VaultAuthError extends Error {
  constructor(readonly reason: string) {
    super(`no usable Vault token: ${reason}`);
    this.name = "VaultAuthError";
  }
}
