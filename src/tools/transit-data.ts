// Transit data operations: encrypt, decrypt, rewrap, HMAC, sign, verify, hash and random bytes; Vault holds the keys, data passes through.
import { type TSchema, Type } from "@sinclair/typebox";
import { VaultError } from "../vault/errors.ts";
import type { SafePath } from "../vault/paths.ts";
import * as transit from "../vault/transit.ts";
import { refusal, ToolError } from "./errors.ts";
import { defineTool, type ToolContext } from "./registry.ts";
import { existingKey, KeyNameArg, MountArg, transitMount } from "./transit.ts";

const Context = Type.Optional(Type.String({ description: "Derived keys only: the context (plain text; sent base64-encoded) the key is derived with; the same context must decrypt", minLength: 1 }));
const KeyVersionArg = Type.Optional(Type.Integer({ minimum: 1, description: "Key version to use; default: the latest (or min_encryption_version)" }));
const AsBase64 = (what: string) => Type.Boolean({ description: `${what} is already base64 (binary data); default false: UTF-8 text, encoded here`, default: false });
const HashAlgorithm = Type.Union(["sha2-224", "sha2-256", "sha2-384", "sha2-512", "sha3-224", "sha3-256", "sha3-384", "sha3-512"].map((a) => Type.Literal(a)), {
  description: 'Hash algorithm; default "sha2-256"',
  default: "sha2-256",
});
const Data = (description: string) => Type.String({ description, sensitive: true });
const Mount = { mount: Type.String(), name: Type.String() };

/** Base64 as Vault takes it: `value` itself when it says it already is, else its UTF-8 bytes encoded. */
function encoded(value: string, isBase64: boolean, argument: string): string {
  if (!isBase64) return transit.b64(value);
  if (!transit.isBase64(value)) throw new ToolError(`Invalid argument "${argument}": it is not standard base64 (A-Z a-z 0-9 + / and = padding); pass UTF-8 text with ${argument}_is_base64=false instead.`);
  return value;
}

/** Vault's refusal of a data operation, with its usual cause. These change nothing, and Vault answers some refusals with 500. */
function refused(err: unknown, what: string, mount: SafePath, name: SafePath): never {
  const why = refusal(err) ?? (err instanceof VaultError && err.failure === "http" && err.status >= 500 && err.errors.length > 0 ? err.errors.join("; ") : undefined);
  if (!why) throw err;
  const hints: [RegExp, string][] = [
    [/context/i, ` Key "${name.display}" is derived: pass the context it was used with.`],
    [/message authentication failed|invalid ciphertext|unable to decrypt|invalid padding/i, " The ciphertext was not made by this key (or with this context), or it was altered."],
    [/version.*(too old|archived|below|min|higher|latest)|min_decryption|minimum/i, ` Check the key's versions with read_transit_key(mount="${mount.display}", name="${name.display}").`],
    [/does not support|not supported|unsupported/i, ` Key "${name.display}" cannot do this: read_transit_key shows its type; create a key of a type that can.`],
  ];
  const hint = hints.find(([re]) => re.test(why))?.[1] ?? "";
  throw new ToolError(`Vault refused to ${what} with transit key "${name.display}" in ${mount.display}/: ${why}.${hint} Nothing was changed.`);
}

/** The one argument of `single` and `items`, and a clear error for both or neither. */
function oneOf(single: unknown, items: unknown[] | undefined, name: string): "single" | "batch" {
  if ((single === undefined) === (items === undefined)) throw new ToolError(`Invalid arguments: give either ${name} (one value) or items (a batch of up to ${transit.BATCH_LIMIT}), not ${single === undefined ? "neither" : "both"}.`);
  return items ? "batch" : "single";
}

/** One data operation with a key; Vault's refusal becomes refused()'s words (these operations change nothing). */
async function operate<T>(ctx: ToolContext, op: string, mount: SafePath, name: SafePath, body: Record<string, unknown>, what: string) {
  try {
    return await transit.keyOperation<T>(ctx.vault, op, mount, name, body);
  } catch (err) {
    return refused(err, what, mount, name);
  }
}

/** POST for a batch: per-item refusals come back in batch_results rather than failing the call. */
async function batch(ctx: ToolContext, op: string, mount: SafePath, name: SafePath, body: Record<string, unknown>): Promise<transit.BatchResult[]> {
  let res;
  try {
    res = await transit.keyOperation<{ batch_results?: transit.BatchResult[] }>(ctx.vault, op, mount, name, { ...body, partial_failure_response_code: 200 });
  } catch (err) {
    if (err instanceof VaultError && err.failure === "http" && err.status === 400) {
      throw new ToolError(`Vault refused every item of the batch for transit key "${name.display}" in ${mount.display}/: ${err.errors.join("; ") || "no reason given"}. Nothing was changed; check each item (context for derived keys, ciphertexts made by this key).`);
    }
    throw err;
  }
  return res.data?.batch_results ?? [];
}

const Batch = <T extends TSchema>(item: T) => Type.Optional(Type.Array(item, { minItems: 1, maxItems: transit.BATCH_LIMIT, description: `A batch instead of one value: up to ${transit.BATCH_LIMIT} items, answered in order` }));

export const encryptData = defineTool({
  name: "encrypt_data",
  toolset: "transit",
  title: "Encrypt data with a transit key",
  description:
    'Encrypts with a transit key; Vault answers a ciphertext "vault:v<version>:..." that only Vault can decrypt (decrypt_data). Store the ciphertext; the plaintext is not kept. ' +
    `Give plaintext, or items for a batch of up to ${transit.BATCH_LIMIT}. The key must exist (create_transit_key): none is created here.`,
  input: Type.Object({
    mount: MountArg,
    name: KeyNameArg,
    plaintext: Type.Optional(Data("The data to encrypt: UTF-8 text, or base64 with plaintext_is_base64=true")),
    plaintext_is_base64: AsBase64("plaintext (and each item's)"),
    context: Context,
    key_version: KeyVersionArg,
    items: Batch(Type.Object({ plaintext: Data("One value to encrypt"), context: Context })),
  }),
  output: Type.Object({
    ...Mount,
    ciphertext: Type.Optional(Type.String()),
    key_version: Type.Optional(Type.Integer()),
    results: Type.Optional(Type.Array(Type.Object({ ciphertext: Type.Optional(Type.String()), key_version: Type.Optional(Type.Integer()), error: Type.Optional(Type.String()) }))),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const mode = oneOf(args.plaintext, args.items, "plaintext");
    // Checked before any request: an argument error must leave Vault untouched.
    const plaintexts = mode === "batch" ? args.items!.map((it, i) => encoded(it.plaintext, args.plaintext_is_base64, `items[${i}].plaintext`)) : [encoded(args.plaintext!, args.plaintext_is_base64, "plaintext")];
    const { mount, name } = await existingKey(ctx, args);
    const kv = args.key_version !== undefined ? { key_version: args.key_version } : {};
    const base = { mount: mount.display, name: name.display };
    if (mode === "batch") {
      const input = args.items!.map((it, i) => ({ plaintext: plaintexts[i], ...(it.context ? { context: transit.b64(it.context) } : args.context ? { context: transit.b64(args.context) } : {}) }));
      const out = (await batch(ctx, "encrypt", mount, name, { batch_input: input, ...kv })).map((r) => (r.error ? { error: r.error } : { ciphertext: r.ciphertext ?? "", key_version: r.key_version ?? transit.versionOf(r.ciphertext ?? "") ?? 0 }));
      const failed = out.filter((r) => r.error).length;
      return { text: `Encrypted ${out.length - failed} of ${out.length} items with "${name.display}" in ${mount.display}/${failed ? `; ${failed} refused (see results[].error)` : ""}. Each ciphertext is in results, in order.`, structured: { ...base, results: out }, isError: failed === out.length };
    }
    const body = { plaintext: plaintexts[0], ...(args.context ? { context: transit.b64(args.context) } : {}), ...kv };
    const res = await operate<{ ciphertext?: string; key_version?: number }>(ctx, "encrypt", mount, name, body, "encrypt");
    const ciphertext = res.data?.ciphertext;
    if (!ciphertext) throw new Error(`Vault answered transit encrypt without a ciphertext`);
    const version = res.data?.key_version ?? transit.versionOf(ciphertext) ?? 0;
    return {
      text: `Encrypted with "${name.display}" version ${version} in ${mount.display}/:\n${ciphertext}\nStore this ciphertext; decrypt_data(mount="${mount.display}", name="${name.display}", ciphertext=...) gives the plaintext back.`,
      structured: { ...base, ciphertext, key_version: version },
    };
  },
});

const Plain = Type.Optional(Type.String({ description: "The decrypted data: text when its bytes are UTF-8, else base64 (see encoding)", sensitive: true }));
const Encoding = Type.Optional(Type.Union([Type.Literal("utf8"), Type.Literal("base64")], { description: '"utf8": plaintext is the text itself; "base64": binary data, base64-encoded' }));

export const decryptData = defineTool({
  name: "decrypt_data",
  toolset: "transit",
  title: "Decrypt data with a transit key",
  description:
    'Decrypts a "vault:v<version>:..." ciphertext made by encrypt_data with the same key. Answers the plaintext as text when its bytes are UTF-8, else as base64, and says which (encoding). ' +
    `The plaintext is secret: it is shown as the operator's MCP_SECRET_VALUES allows. Give ciphertext, or items for a batch of up to ${transit.BATCH_LIMIT}.`,
  input: Type.Object({
    mount: MountArg,
    name: KeyNameArg,
    ciphertext: Type.Optional(Type.String({ description: 'A ciphertext from encrypt_data, "vault:v1:..."', minLength: 1 })),
    context: Context,
    items: Batch(Type.Object({ ciphertext: Type.String({ minLength: 1 }), context: Context })),
  }),
  output: Type.Object({
    ...Mount,
    plaintext: Plain,
    encoding: Encoding,
    results: Type.Optional(Type.Array(Type.Object({ plaintext: Plain, encoding: Encoding, error: Type.Optional(Type.String()) }))),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const mode = oneOf(args.ciphertext, args.items, "ciphertext");
    const { mount, name } = await existingKey(ctx, args);
    const base = { mount: mount.display, name: name.display };
    if (mode === "batch") {
      const input = args.items!.map((it) => ({ ciphertext: it.ciphertext, ...(it.context ? { context: transit.b64(it.context) } : args.context ? { context: transit.b64(args.context) } : {}) }));
      const out = (await batch(ctx, "decrypt", mount, name, { batch_input: input })).map((r) => {
        if (r.error) return { error: r.error };
        const { text, encoding } = transit.asText(r.plaintext ?? "");
        return { plaintext: text, encoding };
      });
      const failed = out.filter((r) => r.error).length;
      return {
        text: (view) =>
          `Decrypted ${out.length - failed} of ${out.length} items with "${name.display}" in ${mount.display}/${failed ? `; ${failed} refused (see results[].error)` : ""}:\n` +
          (view.results ?? []).map((r, i) => `${i}: ${r.error ? `refused: ${r.error}` : `(${r.encoding}) ${r.plaintext}`}`).join("\n"),
        structured: { ...base, results: out },
        isError: failed === out.length,
      };
    }
    const res = await operate<{ plaintext?: string }>(ctx, "decrypt", mount, name, { ciphertext: args.ciphertext, ...(args.context ? { context: transit.b64(args.context) } : {}) }, "decrypt");
    const { text, encoding } = transit.asText(res.data?.plaintext ?? "");
    return {
      text: (view) => `Decrypted with "${name.display}" in ${mount.display}/ (${view.encoding === "utf8" ? "UTF-8 text" : "binary data, shown as base64"}):\n${view.plaintext}`,
      structured: { ...base, plaintext: text, encoding },
    };
  },
});

export const rewrapData = defineTool({
  name: "rewrap_data",
  toolset: "transit",
  title: "Re-encrypt a ciphertext with a newer key version",
  description:
    "Re-encrypts a transit ciphertext with the key's latest version (or key_version) inside Vault, without the plaintext ever leaving it. Use after rotate_transit_key; " +
    "the new ciphertext names the new version and decrypts as before. Replace the stored ciphertext with it.",
  input: Type.Object({
    mount: MountArg,
    name: KeyNameArg,
    ciphertext: Type.String({ description: 'The ciphertext to re-encrypt, "vault:v1:..."', minLength: 1 }),
    context: Context,
    key_version: KeyVersionArg,
  }),
  output: Type.Object({ ...Mount, ciphertext: Type.String(), key_version: Type.Integer(), previous_version: Type.Optional(Type.Integer()) }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const { mount, name } = await existingKey(ctx, args);
    const res = await operate<{ ciphertext?: string; key_version?: number }>(ctx, "rewrap", mount, name, {
      ciphertext: args.ciphertext,
      ...(args.context ? { context: transit.b64(args.context) } : {}),
      ...(args.key_version !== undefined ? { key_version: args.key_version } : {}),
    }, "rewrap");
    const ciphertext = res.data?.ciphertext;
    if (!ciphertext) throw new Error("Vault answered transit rewrap without a ciphertext");
    const version = res.data?.key_version ?? transit.versionOf(ciphertext) ?? 0;
    const previous = transit.versionOf(args.ciphertext);
    return {
      text: `Re-encrypted with "${name.display}" version ${version}${previous !== undefined ? ` (was version ${previous})` : ""}:\n${ciphertext}\nReplace the stored ciphertext with this one.`,
      structured: { mount: mount.display, name: name.display, ciphertext, key_version: version, ...(previous !== undefined ? { previous_version: previous } : {}) },
    };
  },
});

const Input = Data("The data: UTF-8 text, or base64 with input_is_base64=true");

export const generateHmac = defineTool({
  name: "generate_hmac",
  toolset: "transit",
  title: "Compute an HMAC with a transit key",
  description: 'Computes an HMAC of data with a transit key (any type; "hmac" keys exist for it), answered as "vault:v<version>:<base64>"; verify_hmac checks one.',
  input: Type.Object({ mount: MountArg, name: KeyNameArg, input: Input, input_is_base64: AsBase64("input"), algorithm: HashAlgorithm, key_version: KeyVersionArg }),
  output: Type.Object({ ...Mount, hmac: Type.String(), key_version: Type.Integer() }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const input = encoded(args.input, args.input_is_base64, "input");
    const { mount, name } = await existingKey(ctx, args);
    const res = await operate<{ hmac?: string }>(ctx, "hmac", mount, name, {
      input,
      algorithm: args.algorithm,
      ...(args.key_version !== undefined ? { key_version: args.key_version } : {}),
    }, "compute an HMAC");
    const hmac = res.data?.hmac;
    if (!hmac) throw new Error("Vault answered transit hmac without an hmac");
    return { text: `HMAC (${args.algorithm}) with "${name.display}" in ${mount.display}/:\n${hmac}`, structured: { mount: mount.display, name: name.display, hmac, key_version: transit.versionOf(hmac) ?? 0 } };
  },
});

export const verifyHmac = defineTool({
  name: "verify_hmac",
  toolset: "transit",
  title: "Verify an HMAC with a transit key",
  description: "Checks that an HMAC from generate_hmac matches the data, with the same key and algorithm. valid=false means the data or the HMAC differs.",
  input: Type.Object({ mount: MountArg, name: KeyNameArg, input: Input, input_is_base64: AsBase64("input"), hmac: Type.String({ description: '"vault:v1:..." from generate_hmac', minLength: 1 }), algorithm: HashAlgorithm }),
  output: Type.Object({ ...Mount, valid: Type.Boolean() }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const input = encoded(args.input, args.input_is_base64, "input");
    const { mount, name } = await existingKey(ctx, args);
    const res = await operate<{ valid?: boolean }>(ctx, "verify", mount, name, { input, hmac: args.hmac, algorithm: args.algorithm }, "verify an HMAC");
    const valid = res.data?.valid === true;
    return { text: valid ? `The HMAC is valid for this data and key "${name.display}".` : `The HMAC does NOT match: the data, the HMAC, the algorithm or the key differs.`, structured: { mount: mount.display, name: name.display, valid } };
  },
});

const SignatureAlgorithm = Type.Optional(Type.Union([Type.Literal("pss"), Type.Literal("pkcs1v15")], { description: 'RSA keys only: "pss" (Vault\'s default) or "pkcs1v15"' }));

export const signData = defineTool({
  name: "sign_data",
  toolset: "transit",
  title: "Sign data with a transit key",
  description: 'Signs data with an asymmetric transit key (ed25519, ecdsa-*, rsa-*); answers "vault:v<version>:<base64>". The private key never leaves Vault; verify_signature checks it.',
  input: Type.Object({
    mount: MountArg,
    name: KeyNameArg,
    input: Input,
    input_is_base64: AsBase64("input"),
    hash_algorithm: HashAlgorithm,
    context: Context,
    key_version: KeyVersionArg,
    signature_algorithm: SignatureAlgorithm,
  }),
  output: Type.Object({ ...Mount, signature: Type.String(), key_version: Type.Integer() }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const input = encoded(args.input, args.input_is_base64, "input");
    const { mount, name } = await existingKey(ctx, args);
    const res = await operate<{ signature?: string; key_version?: number }>(ctx, "sign", mount, name, {
      input,
      hash_algorithm: args.hash_algorithm,
      ...(args.context ? { context: transit.b64(args.context) } : {}),
      ...(args.key_version !== undefined ? { key_version: args.key_version } : {}),
      ...(args.signature_algorithm ? { signature_algorithm: args.signature_algorithm } : {}),
    }, "sign");
    const signature = res.data?.signature;
    if (!signature) throw new Error("Vault answered transit sign without a signature");
    const version = res.data?.key_version ?? transit.versionOf(signature) ?? 0;
    return { text: `Signed with "${name.display}" version ${version} in ${mount.display}/:\n${signature}\nread_transit_key shows the public key to verify it elsewhere.`, structured: { mount: mount.display, name: name.display, signature, key_version: version } };
  },
});

export const verifySignature = defineTool({
  name: "verify_signature",
  toolset: "transit",
  title: "Verify a signature with a transit key",
  description: "Checks a signature from sign_data against the data, with the same key, hash_algorithm and context. valid=false means the data or the signature was altered, or another key signed it.",
  input: Type.Object({
    mount: MountArg,
    name: KeyNameArg,
    input: Input,
    input_is_base64: AsBase64("input"),
    signature: Type.String({ description: '"vault:v1:..." from sign_data', minLength: 1 }),
    hash_algorithm: HashAlgorithm,
    context: Context,
    signature_algorithm: SignatureAlgorithm,
  }),
  output: Type.Object({ ...Mount, valid: Type.Boolean() }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const input = encoded(args.input, args.input_is_base64, "input");
    const { mount, name } = await existingKey(ctx, args);
    const res = await operate<{ valid?: boolean }>(ctx, "verify", mount, name, {
      input,
      signature: args.signature,
      hash_algorithm: args.hash_algorithm,
      ...(args.context ? { context: transit.b64(args.context) } : {}),
      ...(args.signature_algorithm ? { signature_algorithm: args.signature_algorithm } : {}),
    }, "verify the signature");
    const valid = res.data?.valid === true;
    return {
      text: valid ? `The signature is valid: key "${name.display}" signed exactly this data.` : "The signature does NOT verify: the data or the signature was altered, or another key (or hash_algorithm) made it.",
      structured: { mount: mount.display, name: name.display, valid },
    };
  },
});

export const hashData = defineTool({
  name: "hash_data",
  toolset: "transit",
  title: "Hash data",
  description: "Hashes data with Vault's transit engine (no key involved) and answers the digest as hex (default) or base64.",
  input: Type.Object({
    mount: MountArg,
    input: Input,
    input_is_base64: AsBase64("input"),
    algorithm: HashAlgorithm,
    format: Type.Union([Type.Literal("hex"), Type.Literal("base64")], { description: 'Digest encoding: "hex" (default) or "base64"', default: "hex" }),
  }),
  output: Type.Object({ mount: Type.String(), algorithm: Type.String(), format: Type.String(), sum: Type.String() }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const input = encoded(args.input, args.input_is_base64, "input");
    const mount = await transitMount(ctx, args.mount);
    let res;
    try {
      res = await ctx.vault.write<{ sum?: string }>(`${mount.encoded}/hash`, { input, algorithm: args.algorithm, format: args.format }, { idempotent: true });
    } catch (err) {
      const why = refusal(err);
      if (why) throw new ToolError(`Vault refused to hash: ${why}. Check algorithm and format.`);
      throw err;
    }
    const sum = res.data?.sum;
    if (!sum) throw new Error("Vault answered transit hash without a sum");
    return { text: `${args.algorithm} (${args.format}): ${sum}`, structured: { mount: mount.display, algorithm: args.algorithm, format: args.format, sum } };
  },
});

export const MAX_RANDOM_BYTES = 1024;

export const generateRandomBytes = defineTool({
  name: "generate_random_bytes",
  toolset: "transit",
  title: "Generate random bytes",
  description:
    `Draws random bytes from Vault's transit engine (1 to ${MAX_RANDOM_BYTES}; default 32), as base64 (default) or hex. They are secret material (a key, a token): shown as the operator's MCP_SECRET_VALUES allows. ` +
    "To store a random value without anyone seeing it, use generate_secret instead.",
  input: Type.Object({
    mount: MountArg,
    bytes: Type.Integer({ minimum: 1, maximum: MAX_RANDOM_BYTES, default: 32, description: `How many bytes, 1 to ${MAX_RANDOM_BYTES}; default 32` }),
    format: Type.Union([Type.Literal("base64"), Type.Literal("hex")], { description: '"base64" (default) or "hex"', default: "base64" }),
  }),
  output: Type.Object({ mount: Type.String(), bytes: Type.Integer(), format: Type.String(), random_bytes: Type.String({ sensitive: true }) }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, ctx) {
    const mount = await transitMount(ctx, args.mount);
    const res = await ctx.vault.write<{ random_bytes?: string }>(`${mount.encoded}/random`, { bytes: args.bytes, format: args.format }, { idempotent: true });
    const random = res.data?.random_bytes;
    if (!random) throw new Error("Vault answered transit random without random_bytes");
    return { text: (view) => `${args.bytes} random bytes (${args.format}):\n${view.random_bytes}`, structured: { mount: mount.display, bytes: args.bytes, format: args.format, random_bytes: random } };
  },
});

export const transitDataTools = [encryptData, decryptData, rewrapData, generateHmac, verifyHmac, signData, verifySignature, hashData, generateRandomBytes];
