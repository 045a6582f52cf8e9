// VaultError: what it keeps from Vault's answer, and what it never carries.
import { describe, expect, it } from "bun:test";
import { describeVaultError, journalNote } from "../../src/tools/errors.ts";
import { Journal } from "../../src/vault/client.ts";
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

describe("what each failure lets an answer say about Vault's state", () => {
  const write = (failure: VaultError["failure"], status = 0) => new VaultError("PUT", "secret/data/x", status, ["why"], failure, "http://v:8200");
  const read = (failure: VaultError["failure"]) => new VaultError("GET", "secret/data/x", 0, ["why"], failure, "http://v:8200");

  it("says nothing was changed when the request was never sent", () => {
    expect(describeVaultError(write("unreachable"))).toContain("the request was never sent, so nothing was changed");
  });

  for (const failure of ["lost", "timeout", "unreadable"] as const) {
    it(`says a write may or may not have been applied after a ${failure} answer, and how to check`, () => {
      const words = describeVaultError(write(failure));
      expect(words).toContain("may or may not have been applied: read it back");
      expect(words).not.toMatch(/nothing was changed/i);
    });

    it(`says a read changed nothing after a ${failure} answer`, () => {
      expect(describeVaultError(read(failure))).toContain("It was a read, so it changed nothing");
    });
  }

  it("names the request whose answer was cut off", () => {
    expect(describeVaultError(write("unreadable"))).toStartWith("Vault's answer to PUT secret/data/x was cut off or unreadable");
  });

  it("does not call a dead token a missing policy, and names the fix", () => {
    const words = describeVaultError(new VaultError("GET", "sys/mounts", 403, ["permission denied"], "bad-token", "http://v:8200"));
    expect(words).not.toContain("capability");
    expect(words).toContain("invalid, expired or revoked");
    expect(words).toContain("VAULT_TOKEN_FILE");
  });

  it("says a write that failed with 5xx may or may not have been applied", () => {
    expect(describeVaultError(write("http", 500))).toContain("may or may not have been applied");
  });

  it("adds what earlier requests of the same call changed, and nothing when they changed nothing", () => {
    const journal = new Journal();
    expect(journalNote(journal, write("lost"))).toBe("");
    journal.record({ method: "POST", path: "pki/issue/web", outcome: "refused" });
    expect(journalNote(journal, write("lost"))).toBe("");
    journal.record({ method: "POST", path: "pki/root/generate/internal", outcome: "applied" });
    journal.record({ method: "PUT", path: "secret/data/x", outcome: "uncertain" });
    const note = journalNote(journal, write("lost"));
    expect(note).toContain("applied: POST pki/root/generate/internal");
    expect(note).not.toContain("PUT secret/data/x");
    expect(note).toContain("do not assume that nothing changed");
  });
});

describe("a bare 400 for a path Vault would not read", () => {
  it("says why Vault gave no reason and what to name the thing instead", () => {
    const words = describeVaultError(new VaultError("POST", "transit/encrypt/k%F0%B2%8F%A3", 400, [], "http", "http://v:8200"));
    expect(words).toContain("without saying why");
    expect(words).toContain("Nothing was changed.");
    expect(words).toContain("ASCII punctuation");
  });

  it("keeps Vault's own words when it gives them", () => {
    expect(describeVaultError(new VaultError("POST", "transit/keys/k", 400, ["invalid type"], "http", "http://v:8200"))).toBe("Vault refused POST transit/keys/k (400). Vault said: invalid type");
  });
});
