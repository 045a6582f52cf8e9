// Auth and TLS settings: each method's variables, their defaults, and errors that name the variable and what it accepts.
import { describe, expect, it } from "bun:test";
import { ConfigError, loadConfig, USAGE } from "../../src/config.ts";

const base = { VAULT_ADDR: "https://vault.example.com:8200" };
const load = (env: Record<string, string>, argv: string[] = []) => loadConfig(argv, { ...base, ...env });
const refusal = (env: Record<string, string>, argv: string[] = []): string => {
  try {
    load(env, argv);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("expected a ConfigError");
};

describe("VAULT_AUTH_METHOD=token (the default)", () => {
  it("takes VAULT_TOKEN or VAULT_TOKEN_FILE", () => {
    expect(load({ VAULT_TOKEN: "x" }).vault.auth).toEqual({ method: "token", token: "x", tokenFile: undefined });
    expect(load({ VAULT_TOKEN_FILE: "/run/token" }).vault.auth).toEqual({ method: "token", token: undefined, tokenFile: "/run/token" });
  });

  it("says every way to give a token when there is none", () => {
    const message = refusal({});
    expect(message).toContain("no Vault token");
    for (const name of ["VAULT_TOKEN", "VAULT_TOKEN_FILE", "VAULT_AUTH_METHOD"]) expect(message).toContain(name);
  });

  it("rejects an unknown method, listing the known ones", () => {
    expect(refusal({ VAULT_AUTH_METHOD: "ldap", VAULT_TOKEN: "x" })).toBe('VAULT_AUTH_METHOD must be one of token, kubernetes, jwt, approle, got "ldap"');
  });
});

describe("VAULT_AUTH_METHOD=kubernetes and jwt", () => {
  it("defaults the token path and the mount", () => {
    expect(load({ VAULT_AUTH_METHOD: "kubernetes", VAULT_K8S_ROLE: "mcp" }).vault.auth).toEqual({
      method: "kubernetes",
      mount: "kubernetes",
      role: "mcp",
      jwtFile: "/var/run/secrets/kubernetes.io/serviceaccount/token",
    });
    expect(load({ VAULT_AUTH_METHOD: "jwt", VAULT_JWT_ROLE: "mcp" }).vault.auth).toMatchObject({ method: "jwt", mount: "jwt" });
  });

  it("takes a mount, a role and a token path, also as flags", () => {
    const auth = load({}, ["--vault-auth-method", "kubernetes", "--vault-k8s-role=mcp", "--vault-k8s-mount", "k8s/prod", "--vault-k8s-token-path", "/t"]).vault.auth;
    expect(auth).toEqual({ method: "kubernetes", mount: "k8s/prod", role: "mcp", jwtFile: "/t" });
  });

  it("requires the role", () => {
    expect(refusal({ VAULT_AUTH_METHOD: "kubernetes" })).toContain("VAULT_K8S_ROLE is required with VAULT_AUTH_METHOD=kubernetes");
    expect(refusal({ VAULT_AUTH_METHOD: "jwt" })).toContain("VAULT_JWT_ROLE is required");
  });

  it("refuses a mount that is not a plain path", () => {
    expect(refusal({ VAULT_AUTH_METHOD: "kubernetes", VAULT_K8S_ROLE: "mcp", VAULT_K8S_MOUNT: "../sys" })).toMatch(/^VAULT_K8S_MOUNT must be an auth mount path/);
    expect(refusal({ VAULT_AUTH_METHOD: "jwt", VAULT_JWT_ROLE: "mcp", VAULT_JWT_MOUNT: "a?b" })).toContain("VAULT_JWT_MOUNT");
  });

  it("refuses a token given as well, naming it, since it would be unclear which one is used", () => {
    expect(refusal({ VAULT_AUTH_METHOD: "kubernetes", VAULT_K8S_ROLE: "mcp", VAULT_TOKEN: "x" })).toContain("VAULT_TOKEN is set, but VAULT_AUTH_METHOD=kubernetes");
    expect(refusal({ VAULT_AUTH_METHOD: "approle", VAULT_APPROLE_ROLE_ID: "r", VAULT_APPROLE_SECRET_ID: "s", VAULT_TOKEN_FILE: "/t" })).toContain(
      "VAULT_TOKEN_FILE is set",
    );
  });
});

describe("VAULT_AUTH_METHOD=approle", () => {
  it("takes the role_id and the secret_id or a file holding it", () => {
    expect(load({ VAULT_AUTH_METHOD: "approle", VAULT_APPROLE_ROLE_ID: "r", VAULT_APPROLE_SECRET_ID: "s" }).vault.auth).toEqual({
      method: "approle",
      mount: "approle",
      roleId: "r",
      secretId: "s",
      secretIdFile: undefined,
    });
    expect(
      load({ VAULT_AUTH_METHOD: "APPROLE", VAULT_APPROLE_ROLE_ID: "r", VAULT_APPROLE_SECRET_ID_FILE: "/s", VAULT_APPROLE_MOUNT: "ar" }).vault.auth,
    ).toMatchObject({ mount: "ar", secretIdFile: "/s" });
  });

  it("requires the role_id and exactly one secret_id source", () => {
    expect(refusal({ VAULT_AUTH_METHOD: "approle", VAULT_APPROLE_SECRET_ID: "s" })).toContain("VAULT_APPROLE_ROLE_ID is required");
    const neither = refusal({ VAULT_AUTH_METHOD: "approle", VAULT_APPROLE_ROLE_ID: "r" });
    expect(neither).toContain("exactly one of VAULT_APPROLE_SECRET_ID or VAULT_APPROLE_SECRET_ID_FILE");
    expect(refusal({ VAULT_AUTH_METHOD: "approle", VAULT_APPROLE_ROLE_ID: "r", VAULT_APPROLE_SECRET_ID: "s", VAULT_APPROLE_SECRET_ID_FILE: "/s" })).toBe(
      neither,
    );
  });
});

describe("credentials are never flags", () => {
  it("has no flag for a token, a role_id or a secret_id", () => {
    for (const flag of ["--vault-token", "--vault-approle-role-id", "--vault-approle-secret-id"]) {
      expect(refusal({ VAULT_TOKEN: "x" }, [flag, "v"])).toContain(`unknown argument "${flag}"`);
    }
  });

  it("lists every auth variable in the usage text", () => {
    for (const name of ["VAULT_AUTH_METHOD", "VAULT_K8S_ROLE", "VAULT_K8S_TOKEN_PATH", "VAULT_K8S_MOUNT", "VAULT_JWT_ROLE", "VAULT_JWT_TOKEN_PATH",
      "VAULT_JWT_MOUNT", "VAULT_APPROLE_ROLE_ID", "VAULT_APPROLE_SECRET_ID", "VAULT_APPROLE_SECRET_ID_FILE", "VAULT_APPROLE_MOUNT", "MCP_TLS_CERT_FILE", "MCP_TLS_KEY_FILE"]) {
      expect(USAGE).toContain(name);
    }
  });
});

describe("TLS settings", () => {
  it("reads the MCP listener's certificate and key, as a pair", () => {
    expect(load({ VAULT_TOKEN: "x", MCP_TLS_CERT_FILE: "/c", MCP_TLS_KEY_FILE: "/k" }).http.tls).toEqual({ certFile: "/c", keyFile: "/k" });
    expect(load({ VAULT_TOKEN: "x" }).http.tls).toBeUndefined();
    expect(refusal({ VAULT_TOKEN: "x", MCP_TLS_KEY_FILE: "/k" })).toContain("MCP_TLS_CERT_FILE and MCP_TLS_KEY_FILE go together");
    expect(load({ VAULT_TOKEN: "x" }, ["--tls-cert-file", "/c", "--tls-key-file=/k"]).http.tls).toEqual({ certFile: "/c", keyFile: "/k" });
  });

  it("reads Vault's CA, client certificate and server name", () => {
    const tls = load({ VAULT_TOKEN: "x", VAULT_CACERT: "/ca", VAULT_CLIENT_CERT: "/c", VAULT_CLIENT_KEY: "/k", VAULT_TLS_SERVER_NAME: "vault.internal" }).vault.tls;
    expect(tls).toEqual({ caCertFile: "/ca", clientCertFile: "/c", clientKeyFile: "/k", serverName: "vault.internal", skipVerify: false });
    expect(refusal({ VAULT_TOKEN: "x", VAULT_CLIENT_CERT: "/c" })).toContain("VAULT_CLIENT_CERT and VAULT_CLIENT_KEY go together");
    expect(refusal({ VAULT_TOKEN: "x", VAULT_SKIP_VERIFY: "maybe" })).toBe('VAULT_SKIP_VERIFY must be true or false, got "maybe"');
  });
});
