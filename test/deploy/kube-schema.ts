// Validates Kubernetes objects offline, as strictly as `kubectl apply --validate=strict`: built-in kinds against
// Kubernetes' published OpenAPI v3 documents, custom resources against their CRD's openAPIV3Schema.
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject } from './tools.ts';

type Schema = Record<string, unknown>;

const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

/**
 * Rewrites an OpenAPI schema into JSON Schema that Ajv checks the way the API server does:
 * unknown fields are errors (additionalProperties: false wherever properties are declared, unless the schema
 * preserves unknown fields), list-type "set" items are unique, list-type "map" items are unique by their keys,
 * and int-or-string fields take either.
 */
function strict(node: unknown, refPrefix: string): unknown {
  if (Array.isArray(node)) return node.map((n) => strict(n, refPrefix));
  if (node === null || typeof node !== 'object') return node;
  const src = node as Schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(src)) {
    if (key === '$ref' && typeof value === 'string') out.$ref = value.replace('#/components/schemas/', refPrefix);
    else if (key === 'properties' || key === 'patternProperties') out[key] = strictAll(value as Record<string, unknown>, refPrefix);
    // Values, not schemas: copied as they are.
    else if (key === 'default' || key === 'enum' || key === 'example' || key.startsWith('x-')) out[key] = value;
    else out[key] = strict(value, refPrefix);
  }
  if (src['x-kubernetes-int-or-string'] === true) {
    delete out.type;
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  if (src.properties && src.additionalProperties === undefined && src['x-kubernetes-preserve-unknown-fields'] !== true) {
    out.additionalProperties = false;
  }
  if (src['x-kubernetes-list-type'] === 'set') out.uniqueItems = true;
  if (src['x-kubernetes-list-type'] === 'map' && Array.isArray(src['x-kubernetes-list-map-keys'])) {
    out.k8sListMapKeys = src['x-kubernetes-list-map-keys'];
  }
  return out;
}

/** strict() over a map of named schemas. */
function strictAll(schemas: Record<string, unknown>, refPrefix: string): Record<string, Schema> {
  return Object.fromEntries(Object.entries(schemas).map(([name, schema]) => [name, strict(schema, refPrefix) as Schema]));
}

function newAjv(): Ajv {
  // strict: false lets the x-kubernetes-* annotations through; formats (int32, date-time...) are not what we test.
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  ajv.addKeyword({
    keyword: 'k8sListMapKeys',
    type: 'array',
    errors: false,
    validate: (keys: string[], items: unknown[]) => {
      const seen = new Set<string>();
      for (const item of items) {
        const id = JSON.stringify(keys.map((k) => (item as Schema)?.[k] ?? null));
        if (seen.has(id)) return false;
        seen.add(id);
      }
      return true;
    },
  });
  return ajv;
}

/** "apps/v1" -> the OpenAPI document Kubernetes publishes for that group/version. */
function documentFile(apiVersion: string): string {
  return apiVersion.includes('/') ? `apis__${apiVersion.replace('/', '__')}_openapi.json` : `api__${apiVersion}_openapi.json`;
}

export interface ValidationResult {
  valid: boolean;
  /** One line per problem, with the JSON pointer into the object. */
  errors: string[];
}

function describe(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const extra = e.keyword === 'additionalProperties' ? ` "${(e.params as { additionalProperty: string }).additionalProperty}"` : '';
    const what = e.keyword === 'k8sListMapKeys' ? 'has two items with the same key' : e.message;
    return `${e.instancePath || '/'} ${what}${extra}`;
  });
}

/** Built-in kinds, checked against the OpenAPI documents in one directory (see kubernetesOpenApiDir()). */
export class KubernetesSchemas {
  private readonly ajv = newAjv();
  private readonly loaded = new Set<string>();
  /** "apps/v1/Deployment" -> definition name. */
  private readonly kinds = new Map<string, string>();
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(private readonly dir: string) {}

  private load(apiVersion: string): void {
    const file = documentFile(apiVersion);
    if (this.loaded.has(file)) return;
    const path = join(this.dir, file);
    if (!existsSync(path)) throw new Error(`Kubernetes publishes no API ${apiVersion} (no ${file})`);
    const doc = JSON.parse(readFileSync(path, 'utf8')) as { components: { schemas: Record<string, Schema> } };
    const definitions = strictAll(doc.components.schemas, `${file}#/definitions/`);
    this.ajv.addSchema({ $id: file, definitions });
    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      for (const gvk of (schema['x-kubernetes-group-version-kind'] ?? []) as { group: string; version: string; kind: string }[]) {
        const gv = gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
        if (gv === apiVersion) this.kinds.set(`${gv}/${gvk.kind}`, `${file}#/definitions/${name}`);
      }
    }
    this.loaded.add(file);
  }

  /** True when Kubernetes itself defines this apiVersion and kind. */
  knows(apiVersion: string, kind: string): boolean {
    if (!existsSync(join(this.dir, documentFile(apiVersion)))) return false;
    this.load(apiVersion);
    return this.kinds.has(`${apiVersion}/${kind}`);
  }

  validate(obj: KubeObject): ValidationResult {
    this.load(obj.apiVersion);
    const key = `${obj.apiVersion}/${obj.kind}`;
    const ref = this.kinds.get(key);
    if (!ref) return { valid: false, errors: [`/ Kubernetes ${obj.apiVersion} has no kind ${obj.kind}`] };
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile({ $ref: ref });
      this.validators.set(key, validate);
    }
    const valid = validate(obj) as boolean;
    return { valid, errors: valid ? [] : describe(validate.errors) };
  }

  /** The ObjectMeta schema, so custom resources get the same metadata checks as built-ins. */
  objectMetaSchema(): { $id: string; definitions: Record<string, Schema> } {
    const file = documentFile('v1');
    const doc = JSON.parse(readFileSync(join(this.dir, file), 'utf8')) as { components: { schemas: Record<string, Schema> } };
    return { $id: `meta-${file}`, definitions: strictAll(doc.components.schemas, `meta-${file}#/definitions/`) };
  }
}

interface CrdVersion {
  name: string;
  served: boolean;
  schema?: { openAPIV3Schema?: Schema };
}

interface Crd {
  kind: 'CustomResourceDefinition';
  spec: { group: string; names: { kind: string }; versions: CrdVersion[] };
}

/** A custom resource's schema, from its CustomResourceDefinition (a YAML file that may hold other documents too). */
export class CrdSchema {
  readonly kind: string;
  readonly group: string;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(crdDocuments: unknown[], objectMeta?: { $id: string; definitions: Record<string, Schema> }) {
    const crd = crdDocuments.find((d) => (d as { kind?: string })?.kind === 'CustomResourceDefinition') as Crd | undefined;
    if (!crd) throw new Error('no CustomResourceDefinition in that file');
    this.kind = crd.spec.names.kind;
    this.group = crd.spec.group;
    const ajv = newAjv();
    if (objectMeta) ajv.addSchema(objectMeta);
    for (const version of crd.spec.versions) {
      const root = version.schema?.openAPIV3Schema;
      if (!version.served || !root) continue;
      const schema = strict(root, '#/definitions/') as Schema;
      const properties = schema.properties as Schema | undefined;
      // The CRD says only `metadata: {type: object}`; the API server checks it as ObjectMeta.
      if (objectMeta && properties) properties.metadata = { $ref: `${objectMeta.$id}#/definitions/${OBJECT_META}` };
      this.validators.set(`${this.group}/${version.name}`, ajv.compile(schema));
    }
  }

  /** apiVersions this CRD serves, e.g. ["kagent.dev/v1alpha2"]. */
  get servedVersions(): string[] {
    return [...this.validators.keys()];
  }

  validate(obj: KubeObject): ValidationResult {
    if (obj.kind !== this.kind) return { valid: false, errors: [`/ kind ${obj.kind} is not ${this.kind}`] };
    const validate = this.validators.get(obj.apiVersion);
    if (!validate) return { valid: false, errors: [`/ ${this.kind} is not served as ${obj.apiVersion} (served: ${this.servedVersions.join(', ')})`] };
    const valid = validate(obj) as boolean;
    return { valid, errors: valid ? [] : describe(validate.errors) };
  }
}
