// Operations (toolset sys): read_cluster_health, read_mount, tune_mount, list_audit_devices, list_leases, read_lease, revoke_lease.
import { Type } from "@sinclair/typebox";
import { VaultError } from "../vault/errors.ts";
import { safeMount } from "../vault/paths.ts";
import * as sys from "../vault/sys.ts";
import { ToolError } from "./errors.ts";
import { defineTool } from "./registry.ts";

const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

export const readClusterHealth = defineTool({
  name: "read_cluster_health",
  toolset: "sys",
  title: "Read Vault's health",
  description:
    "One answer on the Vault node the server talks to: initialized, sealed, standby, version, HA leader and replication modes (sys/health, sys/leader). " +
    "Needs no token, so it also answers when the server's token is refused.",
  input: Type.Object({}),
  output: Type.Object({
    initialized: Type.Boolean(),
    sealed: Type.Boolean(),
    standby: Type.Boolean(),
    performance_standby: Type.Boolean(),
    version: Type.String(),
    cluster_name: Type.Optional(Type.String()),
    cluster_id: Type.Optional(Type.String()),
    replication_performance_mode: Type.String(),
    replication_dr_mode: Type.String(),
    ha_enabled: Type.Optional(Type.Boolean()),
    is_self: Type.Optional(Type.Boolean({ description: "Whether this node is the HA leader" })),
    leader_address: Type.Optional(Type.String()),
    leader_cluster_address: Type.Optional(Type.String()),
  }),
  annotations: READ_ONLY,
  async run(_args, { vault }) {
    const h = await sys.clusterHealth(vault);
    const state = !h.initialized ? "is NOT initialized (vault operator init)" : h.sealed ? "is SEALED (vault operator unseal)" : h.standby ? "is unsealed, a standby" : "is unsealed and active";
    const ha = h.ha_enabled ? `HA leader: ${h.is_self ? "this node" : h.leader_address || "unknown"}` : "no HA (a single node)";
    return {
      text: `Vault ${h.version}${h.cluster_name ? ` (${h.cluster_name})` : ""} ${state}; ${ha}; replication: performance ${h.replication_performance_mode}, DR ${h.replication_dr_mode}.`,
      structured: h,
    };
  },
});

const MountPath = Type.String({ description: 'The secrets engine mount, e.g. "secret" or "pki"', minLength: 1, vault: "mount" });

const MountDetail = Type.Object({
  path: Type.String(),
  type: Type.String(),
  description: Type.String(),
  accessor: Type.Optional(Type.String()),
  local: Type.Optional(Type.Boolean()),
  seal_wrap: Type.Optional(Type.Boolean()),
  options: Type.Record(Type.String(), Type.String()),
  default_lease_ttl: Type.Integer({ description: "Seconds; 0 is the system default" }),
  max_lease_ttl: Type.Integer({ description: "Seconds; 0 is the system default" }),
  plugin_version: Type.Optional(Type.String()),
});

function detail(path: string, m: sys.RawMount) {
  return {
    path,
    type: m.type ?? "unknown",
    description: m.description ?? "",
    ...(m.accessor ? { accessor: m.accessor } : {}),
    ...(typeof m.local === "boolean" ? { local: m.local } : {}),
    ...(typeof m.seal_wrap === "boolean" ? { seal_wrap: m.seal_wrap } : {}),
    options: m.options ?? {},
    default_lease_ttl: typeof m.config?.default_lease_ttl === "number" ? m.config.default_lease_ttl : 0,
    max_lease_ttl: typeof m.config?.max_lease_ttl === "number" ? m.config.max_lease_ttl : 0,
    ...(m.running_plugin_version ? { plugin_version: m.running_plugin_version } : {}),
  };
}

const ttl = (s: number) => (s > 0 ? `${s}s` : "the system default");

function notAMount(path: string): ToolError {
  return new ToolError(`No secrets engine is mounted at ${path}/ (a path inside a mount is not one). list_mounts shows the mounts there are.`);
}

export const readMount = defineTool({
  name: "read_mount",
  toolset: "sys",
  title: "Read a secrets engine mount",
  description: "Reads one secrets engine mount's settings: type, description, options (KV version), lease TTLs, accessor.",
  input: Type.Object({ path: MountPath }),
  output: MountDetail,
  annotations: READ_ONLY,
  async run(args, { vault }) {
    const path = safeMount(args.path, "path");
    const m = await sys.mountAt(vault, path);
    if (!m) throw notAMount(path.display);
    const d = detail(path.display, m);
    const opts = Object.entries(d.options).map(([k, v]) => `${k}=${v}`);
    return {
      text: `${d.path}/ is a ${d.type} engine${d.description ? ` ("${d.description}")` : ""}${opts.length ? `, options ${opts.join(", ")}` : ""}; default lease TTL ${ttl(d.default_lease_ttl)}, maximum ${ttl(d.max_lease_ttl)}. tune_mount changes these.`,
      structured: d,
    };
  },
});

export const tuneMount = defineTool({
  name: "tune_mount",
  toolset: "sys",
  title: "Tune a secrets engine mount",
  description:
    "Changes a secrets engine mount's lease TTLs, description or options (sys/mounts/<path>/tune); only the settings given change. " +
    "Does not change a KV version (upgrading KV v1 to v2 cannot be undone).",
  input: Type.Object({
    path: MountPath,
    default_lease_ttl: Type.Optional(Type.String({ description: 'e.g. "768h"; "system" resets it', minLength: 1, maxLength: 32 })),
    max_lease_ttl: Type.Optional(Type.String({ description: 'e.g. "8760h"; "system" resets it', minLength: 1, maxLength: 32 })),
    description: Type.Optional(Type.String({ maxLength: 1024 })),
    options: Type.Optional(Type.Record(Type.String(), Type.String(), { description: "Engine options to set" })),
  }),
  output: Type.Object({ path: Type.String(), changed: Type.Array(Type.String()), mount: MountDetail }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, { vault, mounts }) {
    const path = safeMount(args.path, "path");
    const tune: sys.MountTune = {};
    if (args.default_lease_ttl !== undefined) tune.default_lease_ttl = args.default_lease_ttl;
    if (args.max_lease_ttl !== undefined) tune.max_lease_ttl = args.max_lease_ttl;
    if (args.description !== undefined) tune.description = args.description;
    if (args.options !== undefined && Object.keys(args.options).length > 0) {
      if (Object.keys(args.options).some((k) => k.toLowerCase() === "version")) {
        throw new ToolError('Invalid argument "options": tune_mount does not change a KV version (an upgrade to v2 rewrites the data and cannot be undone); do it with `vault kv enable-versioning` if you mean it. Nothing was changed.');
      }
      tune.options = args.options;
    }
    const changed = Object.keys(tune);
    if (changed.length === 0) throw new ToolError("Nothing to change: give at least one of default_lease_ttl, max_lease_ttl, description or options.");
    // sys/mounts/<path>/tune tunes the mount that encloses a deeper path, so the path must be a mount itself.
    if (!(await sys.mountAt(vault, path))) throw notAMount(path.display);
    try {
      await sys.tuneMount(vault, path, tune);
    } catch (err) {
      if (err instanceof VaultError && err.failure === "http" && err.status === 400) {
        throw new ToolError(`Vault refused to tune ${path.display}/: ${err.errors.join("; ") || "no reason given"}. Nothing was changed; check the values (TTLs such as "768h", the maximum no lower than the default).`);
      }
      throw err;
    }
    mounts.forget(path.display);
    const after = await sys.mountAt(vault, path);
    if (!after) throw new ToolError(`Vault accepted the settings for ${path.display}/, but the mount is no longer there; check with list_mounts.`);
    const d = detail(path.display, after);
    if (tune.description !== undefined && d.description !== tune.description) {
      throw new ToolError(`Vault accepted the settings for ${path.display}/, but its description reads back as "${d.description}"; check with read_mount(path="${path.display}").`);
    }
    return {
      text: `Tuned ${d.path}/ (${changed.join(", ")}): default lease TTL ${ttl(d.default_lease_ttl)}, maximum ${ttl(d.max_lease_ttl)}.`,
      structured: { path: path.display, changed, mount: d },
    };
  },
});

const AuditEntry = Type.Object({ path: Type.String(), type: Type.String(), description: Type.String(), local: Type.Optional(Type.Boolean()), options: Type.Record(Type.String(), Type.String()) });

export const listAuditDevices = defineTool({
  name: "list_audit_devices",
  toolset: "sys",
  title: "List audit devices",
  description: "Lists Vault's enabled audit devices (file, syslog, socket) with their options (sys/audit; needs sudo). None enabled means requests are not audited.",
  input: Type.Object({}),
  output: Type.Object({ audit_devices: Type.Array(AuditEntry) }),
  annotations: READ_ONLY,
  async run(_args, { vault }) {
    const devices = Object.entries(await sys.listAuditDevices(vault))
      .map(([p, d]) => ({ path: p.replace(/\/+$/, ""), type: d.type ?? "unknown", description: d.description ?? "", ...(typeof d.local === "boolean" ? { local: d.local } : {}), options: d.options ?? {} }))
      .sort((a, b) => a.path.localeCompare(b.path));
    return {
      text:
        devices.length === 0
          ? "No audit device is enabled: Vault keeps no audit log of requests."
          : `${devices.length} audit device${devices.length === 1 ? "" : "s"}:\n${devices.map((d) => `- ${d.path}/ (${d.type})${d.options.file_path ? ` to ${d.options.file_path}` : ""}`).join("\n")}`,
      structured: { audit_devices: devices },
    };
  },
});

const LeaseIdArg = Type.String({ description: 'A lease id, e.g. "auth/token/create/h8a1..." (list_leases shows them)', minLength: 1, maxLength: 1024 });

export const listLeases = defineTool({
  name: "list_leases",
  toolset: "sys",
  title: "List leases under a prefix",
  description:
    'Lists the lease ids and deeper prefixes (ending in "/") under a lease prefix, e.g. "auth/token/create" or "database/creds/app" (sys/leases/lookup; needs sudo). "" lists the top.',
  input: Type.Object({ prefix: Type.String({ description: 'A lease prefix, e.g. "auth/token/create"; "" for the top', maxLength: 1024, vault: "none" }) }),
  output: Type.Object({ prefix: Type.String(), keys: Type.Array(Type.String()) }),
  annotations: READ_ONLY,
  async run(args, { vault }) {
    const prefix = sys.leasePrefix(args.prefix);
    const keys = await sys.listLeases(vault, prefix);
    const where = prefix.display || "(the top)";
    return {
      text:
        keys.length === 0
          ? `No leases under ${where}.`
          : `${keys.length} entr${keys.length === 1 ? "y" : "ies"} under ${where}: ${keys.slice(0, 50).join(", ")}${keys.length > 50 ? ", ..." : ""}. read_lease(lease_id="${prefix.display ? `${prefix.display}/` : ""}<id>") reads one; a key ending in "/" is a deeper prefix.`,
      structured: { prefix: prefix.display, keys },
    };
  },
});

const LeaseOut = Type.Object({
  lease_id: Type.String(),
  issue_time: Type.Optional(Type.String()),
  expire_time: Type.Optional(Type.String()),
  last_renewal: Type.Optional(Type.String()),
  renewable: Type.Boolean(),
  ttl: Type.Integer({ description: "Seconds left" }),
});

function leaseOut(l: sys.Lease) {
  return {
    lease_id: l.id,
    ...(l.issue_time ? { issue_time: l.issue_time } : {}),
    ...(l.expire_time ? { expire_time: l.expire_time } : {}),
    ...(l.last_renewal ? { last_renewal: l.last_renewal } : {}),
    renewable: l.renewable === true,
    ttl: typeof l.ttl === "number" ? l.ttl : 0,
  };
}

function noLease(id: string, what: string): ToolError {
  return new ToolError(`Vault has no lease "${id}" (it may have expired or been revoked)${what}. list_leases(prefix) shows the leases there are.`);
}

export const readLease = defineTool({
  name: "read_lease",
  toolset: "sys",
  title: "Read a lease",
  description: "Reads one lease's issue and expiry times, time to live and whether it can be renewed (sys/leases/lookup). Never the secret it leases.",
  input: Type.Object({ lease_id: LeaseIdArg }),
  output: LeaseOut,
  annotations: READ_ONLY,
  async run(args, { vault }) {
    const id = sys.leaseId(args.lease_id);
    const lease = await sys.readLease(vault, id);
    if (!lease) throw noLease(id, "");
    const l = leaseOut(lease);
    return {
      text: `Lease ${l.lease_id}: ${l.ttl > 0 ? `${l.ttl}s left` : "no time left"}${l.expire_time ? ` (expires ${l.expire_time})` : ""}, ${l.renewable ? "renewable" : "not renewable"}.`,
      structured: l,
    };
  },
});

export const revokeLease = defineTool({
  name: "revoke_lease",
  toolset: "sys",
  title: "Revoke a lease",
  description:
    "Revokes one lease at once (sys/leases/revoke): the secret it leases stops working (a token is revoked with its children, a database user is dropped). This cannot be undone.",
  input: Type.Object({ lease_id: LeaseIdArg }),
  output: Type.Object({ lease_id: Type.String(), revoked: Type.Boolean() }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async run(args, { vault }) {
    const id = sys.leaseId(args.lease_id);
    // Vault answers 204 for an id it does not know, so look first to tell the truth.
    if (!(await sys.readLease(vault, id))) throw noLease(id, ", so nothing was revoked");
    await sys.revokeLease(vault, id);
    if (await sys.readLease(vault, id)) throw new ToolError(`Vault answered the request to revoke ${id}, but the lease is still there; check with read_lease(lease_id="${id}").`);
    return { text: `Revoked the lease ${id}; the secret it leased no longer works. This cannot be undone.`, structured: { lease_id: id, revoked: true } };
  },
});

export const sysTools = [readClusterHealth, readMount, tuneMount, listAuditDevices, listLeases, readLease, revokeLease];
