// TLS failures to Vault, named in words that point at the setting to fix.
import { describe, expect, it } from "bun:test";
import { explainingTlsFailures, explainTlsFailure } from "../../src/vault/auth-tls.ts";

const failure = (code: string, message = "") => Object.assign(new TypeError(message || code), { code });

describe("explainTlsFailure", () => {
  it("points at VAULT_CACERT when the certificate's issuer is not trusted", () => {
    for (const code of ["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "SELF_SIGNED_CERT_IN_CHAIN", "DEPTH_ZERO_SELF_SIGNED_CERT", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"]) {
      expect(explainTlsFailure(failure(code))).toContain("set VAULT_CACERT");
    }
  });

  it("points at VAULT_TLS_SERVER_NAME when the certificate names another host", () => {
    expect(explainTlsFailure(failure("ERR_TLS_CERT_ALTNAME_INVALID"))).toContain("VAULT_TLS_SERVER_NAME");
  });

  it("says when the certificate is out of date", () => {
    expect(explainTlsFailure(failure("CERT_HAS_EXPIRED"))).toContain("validity period");
  });

  it("points at the client certificate settings when the handshake is refused", () => {
    expect(explainTlsFailure(failure("EPROTO"))).toContain("VAULT_CLIENT_CERT and VAULT_CLIENT_KEY");
  });

  it("leaves other failures alone", () => {
    expect(explainTlsFailure(failure("ECONNREFUSED"))).toBeUndefined();
    expect(explainTlsFailure(new Error("boom"))).toBeUndefined();
  });
});

describe("explainingTlsFailures", () => {
  it("rethrows a certificate failure as words, without a code, keeping the original as the cause", async () => {
    const original = failure("UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    const wrapped = explainingTlsFailures((async () => {
      throw original;
    }) as unknown as typeof fetch);
    const err = (await wrapped("https://vault.example:8200/v1/sys/health").catch((e) => e)) as Error & { code?: string };
    expect(err.message).toContain("not signed by a trusted CA");
    expect(err.code).toBeUndefined();
    expect(err.cause).toBe(original);
  });

  it("passes answers and other failures through", async () => {
    const ok = explainingTlsFailures((async () => new Response("fine")) as unknown as typeof fetch);
    expect(await (await ok("https://vault.example:8200")).text()).toBe("fine");
    const refused = failure("ECONNREFUSED");
    const down = explainingTlsFailures((async () => {
      throw refused;
    }) as unknown as typeof fetch);
    expect(await down("https://vault.example:8200").catch((e) => e)).toBe(refused);
  });
});
