// VaultError: what it keeps from Vault's answer, and what it never carries.
import { describe, expect, it } from "bun:test";
import { cleanVaultErrors, VaultError } from "../../src/vault/errors.ts";

describe("VaultError", () => {
  it("unwraps Go's multierror text into one line per error", () => {
    expect(cleanVaultErrors(["1 error occurred:\n\t* no default issuer currently configured\n\n"])).toEqual(["no default issuer currently configured"]);
    expect(cleanVaultErrors(["2 errors occurred:\n\t* a\n\t* b\n\n"])).toEqual(["a; b"]);
    expect(cleanVaultErrors(["permission denied", "", "  "])).toEqual(["permission denied"]);
  });

  it("keeps method, path and status, and says them in its message", () => {
    const err = new VaultError("PATCH", "secret/data/x", 403, ["1 error occurred:\n\t* permission denied\n\n"]);
    expect(err.errors).toEqual(["permission denied"]);
    expect(err.message).toBe("Vault PATCH secret/data/x failed with 403: permission denied");
    expect(err.isForbidden).toBe(true);
  });

  it("recognises a check-and-set mismatch", () => {
    expect(new VaultError("POST", "s/data/x", 400, ["check-and-set parameter did not match the current version"]).isCasMismatch).toBe(true);
    expect(new VaultError("POST", "s/data/x", 400, ["other"]).isCasMismatch).toBe(false);
  });

  it("names the address, not a token, when Vault cannot be reached", () => {
    const err = new VaultError("GET", "sys/mounts", 0, ["ECONNREFUSED"], "unreachable", "http://127.0.0.1:8200");
    expect(err.message).toBe("Vault at http://127.0.0.1:8200 could not be reached (ECONNREFUSED)");
  });
});
