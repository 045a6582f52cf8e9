// TLS to Vault: certificate failures turned into words that say which setting to fix (config.ts reads the PEM files).

// OpenSSL/BoringSSL verification codes, as Bun's fetch reports them in `code`.
const UNTRUSTED = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
  "CERT_CHAIN_TOO_LONG",
  "INVALID_CA",
]);
const WRONG_NAME = new Set(["ERR_TLS_CERT_ALTNAME_INVALID", "HOSTNAME_MISMATCH"]);
const OUT_OF_DATE = new Set(["CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID"]);

/** The words for a TLS failure, or undefined if `err` is not one. */
export function explainTlsFailure(err: unknown): string | undefined {
  const code = String((err as { code?: unknown })?.code ?? "");
  const message = String((err as { message?: unknown })?.message ?? "");
  if (UNTRUSTED.has(code)) {
    return `Vault's TLS certificate is not signed by a trusted CA (${code}); set VAULT_CACERT to the CA certificate that signed it`;
  }
  if (WRONG_NAME.has(code)) {
    return `Vault's TLS certificate does not name the host in VAULT_ADDR (${code}); use the name it was issued for, or set VAULT_TLS_SERVER_NAME to it`;
  }
  if (OUT_OF_DATE.has(code)) return `Vault's TLS certificate is outside its validity period (${code}); check Vault's certificate and this host's clock`;
  // A server that wants a client certificate ends the handshake with an alert; Bun reports it as EPROTO.
  if (code === "EPROTO" || /certificate required|bad certificate|handshake/i.test(message)) {
    return `the TLS handshake with Vault failed (${code || message}); if Vault requires a client certificate, set VAULT_CLIENT_CERT and VAULT_CLIENT_KEY`;
  }
  return undefined;
}

/** Wraps fetch so that a certificate failure reaches the Vault error (and the tool result) in words rather than a bare code. */
export function explainingTlsFailures(inner: typeof fetch): typeof fetch {
  const wrapped = async (input: string | URL | Request, init?: RequestInit) => {
    try {
      return await inner(input, init);
    } catch (err) {
      const words = explainTlsFailure(err);
      // No `code` on purpose: the client reports an error's code in preference to its message.
      if (words) throw new Error(words, { cause: err });
      throw err;
    }
  };
  return Object.assign(wrapped, inner) as typeof fetch;
}
