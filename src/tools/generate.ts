// generate_secret: a value drawn here from a CSPRNG and merged into a KV secret, so that nobody in the conversation sees it.
import { randomInt } from "node:crypto";
import { type Static, Type } from "@sinclair/typebox";
import * as kv from "../vault/kv.ts";
import { KeyArg, kvGetCommand, kvTarget, mergeIntoSecret, MountArg, PathArg } from "./kv-common.ts";
import { defineTool } from "./registry.ts";

const LOWER = "abcdefghijklmnopqrstuvwxyz";
const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS = "0123456789";
// No quotes, backslash, backtick, "$", "&", "/" or space: safe unquoted in shells, URLs' userinfo and most config files.
export const SYMBOLS = "!#%*+,-.:=?@^_~";

/** Each charset's alphabet, and the classes a value must hold one of each of (as password rules ask). */
export const CHARSETS = {
  alphanumeric: { alphabet: LOWER + UPPER + DIGITS, classes: [LOWER, UPPER, DIGITS] },
  "alphanumeric-symbols": { alphabet: LOWER + UPPER + DIGITS + SYMBOLS, classes: [LOWER, UPPER, DIGITS, SYMBOLS] },
  hex: { alphabet: "0123456789abcdef", classes: [] },
  base64url: { alphabet: UPPER + LOWER + DIGITS + "-_", classes: [] },
} as const;

const CharsetArg = Type.Union(
  Object.keys(CHARSETS).map((c) => Type.Literal(c as keyof typeof CHARSETS)),
  {
    description:
      `"alphanumeric" (the default; at least one lower-case letter, upper-case letter and digit), "alphanumeric-symbols" (also at least one of ${SYMBOLS}), ` +
      '"hex" (0-9a-f) or "base64url" (A-Z a-z 0-9 - _)',
    default: "alphanumeric",
  },
);
type Charset = Static<typeof CharsetArg>;

export const MIN_LENGTH = 8;
export const MAX_LENGTH = 1024;

/** `length` characters of `charset`, each drawn uniformly by node:crypto; redrawn until every class of the charset is in it. */
export function generateValue(length: number, charset: Charset): string {
  const { alphabet, classes } = CHARSETS[charset];
  for (;;) {
    let value = "";
    for (let i = 0; i < length; i++) value += alphabet[randomInt(alphabet.length)];
    // Rejection keeps the draw uniform over the values that hold every class.
    if (classes.every((c: string) => [...value].some((ch) => c.includes(ch)))) return value;
  }
}

export const generateSecret = defineTool({
  name: "generate_secret",
  toolset: "kv",
  title: "Generate a secret value",
  description:
    "Generates a random value on the server (node:crypto) and stores it under one key of a KV secret (v1 or v2), merged as write_secret merges: " +
    "the secret's other keys are kept, and on KV v2 it is a new version. The value is never in the answer, in any mode, nor in a log: " +
    "applications read it from Vault. Use it to set or rotate a password without anyone in the conversation seeing it.",
  input: Type.Object({
    mount: MountArg,
    path: PathArg,
    key: KeyArg,
    length: Type.Integer({ description: `Number of characters, ${MIN_LENGTH} to ${MAX_LENGTH}; default 32`, default: 32, minimum: MIN_LENGTH, maximum: MAX_LENGTH }),
    charset: CharsetArg,
  }),
  output: Type.Object({
    mount: Type.String(),
    path: Type.String(),
    key: Type.String(),
    length: Type.Integer(),
    charset: Type.String(),
    created: Type.Boolean({ description: "The secret did not exist before" }),
    version: Type.Optional(Type.Integer()),
    read_command: Type.String({ description: "How a person with Vault access reads the value" }),
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  async run(args, ctx) {
    const t = await kvTarget(ctx, args.mount, args.path);
    const value = generateValue(args.length, args.charset);
    const { version, created } = await mergeIntoSecret(ctx, t, kv.withKey({}, args.key, value));
    const command = kvGetCommand(t, { key: args.key });
    return {
      text:
        `Generated a ${args.length}-character ${args.charset} value and stored it at ${t.where} under "${args.key}"` +
        `${version !== undefined ? ` (version ${version})` : ""}${created ? "; the secret is new" : "; its other keys are kept"}.\n` +
        `The value is in no answer and no log. Applications read it from Vault; a person with Vault access reads it with: ${command}`,
      structured: {
        mount: t.mount.display,
        path: t.path.display,
        key: args.key,
        length: args.length,
        charset: args.charset,
        created,
        ...(version !== undefined ? { version } : {}),
        read_command: command,
      },
    };
  },
});
