// Reading facts out of certificates Vault made: a certificate our parser refuses never turns Vault's success into an error.
import { describe, expect, it } from "bun:test";
import { certificateFacts, subjectAltNames } from "../../src/tools/pki-common.ts";

describe("certificate facts", () => {
  it("are unknown, not an exception, for a certificate the parser refuses (a noncharacter in its name, found by the fuzz)", () => {
    const refused = "-----BEGIN CERTIFICATE-----\nMIIBnotacertificate\n-----END CERTIFICATE-----\n";
    expect(certificateFacts(refused)).toEqual({ common_name: "", serial: "", not_before: "", not_after: "" });
    expect(subjectAltNames(refused)).toEqual([]);
  });
});
