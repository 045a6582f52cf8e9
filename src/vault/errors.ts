// One error type for every failed Vault call: method, path, status and Vault's own errors[], never the token.

export type VaultFailure = "http" | "unreachable" | "timeout" | "sealed";

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
  /** Vault's `errors[]`, unwrapped by cleanVaultErrors. */
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
    if (failure === "unreachable") return `Vault at ${addr} could not be reached (${errors.join("; ")})`;
    if (failure === "timeout") return `Vault at ${addr} did not answer ${method} ${path} in time`;
    const detail = errors.length > 0 ? `: ${errors.join("; ")}` : "";
    return `Vault ${method} ${path} failed with ${status}${detail}`;
  }

  get isNotFound(): boolean {
    return this.failure === "http" && this.status === 404;
  }

  get isForbidden(): boolean {
    return this.failure === "http" && this.status === 403;
  }

  /** Vault answers 400 with this text when a check-and-set version does not match. */
  get isCasMismatch(): boolean {
    return this.status === 400 && this.errors.some((e) => /check-and-set/i.test(e));
  }
}

/** No token could be had: a login failed or a credential file could not be read. Nothing was sent to the API. */
export class VaultAuthError extends Error {
  constructor(readonly reason: string) {
    super(`no usable Vault token: ${reason}`);
    this.name = "VaultAuthError";
  }
}
