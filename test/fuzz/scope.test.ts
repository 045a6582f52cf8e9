// The fuzz's scope check on its own: a checker that let an escape through would make the whole fuzz prove nothing.
import { describe, expect, it } from "bun:test";
import { escape, isLookup, scopeOf } from "./scope.ts";

const read = (path: string) => ({ operation: "read", path });

describe("scopeOf and escape", () => {
  it("lets a KV call touch its own mount and the lookups of that mount", () => {
    const scope = scopeOf("read_secret", { mount: "fz-kv2", path: "app/db" });
    expect(escape(scope, read("fz-kv2/data/app/db"))).toBeUndefined();
    expect(escape(scope, read("sys/internal/ui/mounts/fz-kv2"))).toBeUndefined();
    expect(escape(scope, read("sys/mounts"))).toBeUndefined();
    expect(escape(scope, read("auth/token/lookup-self"))).toBeUndefined();
    expect(escape(scope, { operation: "list", path: "fz-kv2/metadata/app/" })).toBeUndefined();
  });

  it("uses the schema default mount when the call names none", () => {
    expect(escape(scopeOf("write_secret", { path: "x" }), read("secret/data/x"))).toBeUndefined();
    expect(escape(scopeOf("list_pki_roles", {}), { operation: "list", path: "pki/roles" })).toBeUndefined();
  });

  it("flags another mount, a prefix look-alike and Vault's own API", () => {
    const scope = scopeOf("read_secret", { mount: "fz-kv2", path: "app/db" });
    expect(escape(scope, read("fz-kv1/app/db"))).toContain("outside the mounts");
    expect(escape(scope, read("fz-kv2-other/data/x"))).toContain("outside the mounts");
    expect(escape(scope, read("sys/policies/acl/x"))).toContain("Vault's own API");
    expect(escape(scope, read("sys/internal/ui/mounts/fz-kv1"))).toContain("Vault's own API");
    expect(escape(scope, read("auth/token/create"))).toContain("Vault's own API");
    expect(escape(scope, read("SYS/mounts/x"))).toContain("Vault's own API");
  });

  it("flags traversal, empty segments and smuggled characters even inside the mount", () => {
    const scope = scopeOf("read_secret", { mount: "fz-kv2", path: "x" });
    expect(escape(scope, read("fz-kv2/data/../../sys/mounts"))).toContain('".."');
    expect(escape(scope, read("fz-kv2/data/./x"))).toContain('"."');
    expect(escape(scope, read("fz-kv2//data/x"))).toContain("empty");
    expect(escape(scope, read("fz-kv2/data/x/"))).toContain("empty");
    expect(escape(scope, read("fz-kv2/data/x?list=true"))).toContain('"?"');
    expect(escape(scope, read("fz-kv2/data/x\u0000"))).toContain("control");
  });

  it("never lets a mount argument that names sys/ widen the scope to sys/", () => {
    const scope = scopeOf("read_secret", { mount: "sys", path: "mounts" });
    expect(escape(scope, read("sys/mounts/x"))).toContain("Vault's own API");
    expect(escape(scope, read("sys/data/mounts"))).toContain("Vault's own API");
  });

  it("lets mount tools touch sys/mounts/<path> and nothing else under sys/", () => {
    const scope = scopeOf("delete_mount", { path: "/fz-scratch-a/" });
    expect(escape(scope, read("sys/mounts/fz-scratch-a"))).toBeUndefined();
    expect(escape(scope, read("sys/mounts/fz-scratch-b"))).toContain("Vault's own API");
    expect(escape(scope, read("fz-scratch-a/config"))).toContain("outside the mounts");
  });

  it("lets delete_mount read, but never delete, the mounts that enclose its path", () => {
    const scope = scopeOf("delete_mount", { path: "fz-kv2/not/a/mount" });
    expect(escape(scope, read("sys/mounts/fz-kv2"))).toBeUndefined();
    expect(escape(scope, read("sys/mounts/fz-kv2/not"))).toBeUndefined();
    expect(escape(scope, { operation: "delete", path: "sys/mounts/fz-kv2" })).toContain("Vault's own API");
    expect(escape(scope, { operation: "delete", path: "sys/mounts/fz-kv2/not/a/mount" })).toBeUndefined();
  });

  it("gives an intermediate issuer its parent mount too", () => {
    const scope = scopeOf("create_pki_issuer", { mount: "fz-pki-int", type: "intermediate", parent_mount: "pki" });
    expect(escape(scope, { operation: "update", path: "pki/issuer/default/sign-intermediate" })).toBeUndefined();
    expect(escape(scopeOf("create_pki_issuer", { mount: "fz-pki-int", type: "root" }), { operation: "update", path: "pki/root/sign-intermediate" })).toContain("outside");
  });

  it("gives arguments that are not strings no paths at all", () => {
    const scope = scopeOf("read_secret", { mount: ["fz-kv2"], path: 1 });
    expect(escape(scope, read("fz-kv2/data/x"))).toContain("outside the mounts");
    expect(escape(scopeOf("read_secret", null), read("secret/data/x"))).toBeUndefined();
  });

  it("counts only token and mount lookups as lookups", () => {
    expect(isLookup("sys/internal/ui/mounts/x")).toBe(true);
    expect(isLookup("auth/token/lookup-self")).toBe(true);
    expect(isLookup("fz-kv2/data/x")).toBe(false);
  });
});
