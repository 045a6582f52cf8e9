// The kagent resources: the RemoteMCPServer that registers the server and the example Agent that uses its tools.
import { beforeAll, describe, expect, it } from 'bun:test';
import { loadConfig } from '../../src/config.ts';
import { allTools } from '../../src/tools/index.ts';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CrdSchema, KubernetesSchemas } from './kube-schema.ts';
import { one, render } from './rendered.ts';
import { kubernetesOpenApiDir, missingToolchain, parseYamlDocuments, repoRoot, type KubeObject } from './tools.ts';

const TOOL_TIMEOUT_MS = 15 * 60_000;
const noGo = missingToolchain();

/** kagent's published CRDs, beside the checkout (see ../shared/README.md). */
const kagentDir = join(repoRoot, '..', 'shared', 'kagent');
const REMOTE_CRD = join(kagentDir, 'remotemcpservers.kagent.dev.yaml');
const AGENT_CRD = join(kagentDir, 'agents.kagent.dev.yaml');
if (!existsSync(REMOTE_CRD)) console.warn(`[deploy] skipping the RemoteMCPServer CRD check: ${REMOTE_CRD} is absent (a clone outside the workplace)`);
if (!existsSync(AGENT_CRD)) console.warn(`[deploy] skipping the Agent CRD check: kagent's Agent CRD is not in ${kagentDir}; the Agent is checked against kagent's API rules below instead`);

// What the server serves with its default toolsets: the example Agent must use exactly these.
const READ_TOOLS = [...serverTools()].filter(([, readOnly]) => readOnly).map(([name]) => name);
const WRITE_TOOLS = [...serverTools()].filter(([, readOnly]) => !readOnly).map(([name]) => name);

interface McpServerTool {
  apiGroup?: string;
  kind?: string;
  name: string;
  toolNames?: string[];
  requireApproval?: string[];
}

interface AgentSpec {
  type: string;
  description?: string;
  declarative?: { modelConfig?: string; systemMessage?: string; systemMessageFrom?: unknown; tools?: { type: string; mcpServer?: McpServerTool; agent?: unknown }[] };
}

/** The tools the server defines, read from src/tools/*.ts: name and whether it only reads (its readOnlyHint). */
/** The tools a server with the default toolsets (MCP_TOOLSETS unset: sys, kv, pki) serves, and whether each is read-only. */
function serverTools(): Map<string, boolean> {
  const served = new Set(loadConfig([], { VAULT_TOKEN: 'unused' }).tools.enabled);
  return new Map(allTools.filter((t) => served.has(t.name)).map((t) => [t.name, t.annotations.readOnlyHint]));
}

function crd(file: string, objectMeta?: ReturnType<KubernetesSchemas['objectMetaSchema']>): CrdSchema {
  return new CrdSchema(parseYamlDocuments(readFileSync(file, 'utf8')), objectMeta);
}

/** Where a RemoteMCPServer comes from: the kustomize base (vault-mcp-remote), or the chart (named as the release). */
const REMOTES = [
  ['production', 'vault-mcp-remote'],
  ['chart+production', 'vault-mcp-server'],
  ['chart+guardrails', 'vault-mcp-server'],
] as const;

for (const [rendering, remoteName] of REMOTES) describe.skipIf(!!noGo)(`the RemoteMCPServer ${remoteName} (${rendering})`, () => {
  let remote: KubeObject;
  let objects: KubeObject[];
  beforeAll(async () => {
    objects = await render(rendering);
    remote = one(objects, 'RemoteMCPServer', remoteName);
  }, TOOL_TIMEOUT_MS);

  it.skipIf(!existsSync(REMOTE_CRD))("is valid against kagent's RemoteMCPServer CRD, metadata included", async () => {
    const schemas = new KubernetesSchemas(await kubernetesOpenApiDir());
    const schema = crd(REMOTE_CRD, schemas.objectMetaSchema());
    expect(schema.servedVersions).toContain(remote.apiVersion);
    expect(schema.validate(remote).errors).toEqual([]);
  }, TOOL_TIMEOUT_MS);

  it.skipIf(!existsSync(REMOTE_CRD))('would be refused by that CRD with a typo or a wrong protocol (the check is not vacuous)', () => {
    const schema = crd(REMOTE_CRD);
    const bad = structuredClone(remote) as KubeObject & { spec: Record<string, unknown> };
    bad.spec.protocol = 'HTTP';
    bad.spec.timeOut = '30s';
    const errors = schema.validate(bad).errors.join('\n');
    expect(errors).toContain('/spec/protocol');
    expect(errors).toContain('"timeOut"');
  });

  it('speaks Streamable HTTP to the Service at /mcp', () => {
    const spec = remote.spec as { protocol: string; url: string };
    expect(spec.protocol).toBe('STREAMABLE_HTTP');
    expect(spec.url).toBe('http://vault-mcp-server.kagent.svc.cluster.local:8084/mcp');
  });

  it('points at the Service and port these manifests actually create', () => {
    const url = new URL((remote.spec as { url: string }).url);
    const [svcName, ns] = url.hostname.split('.');
    const service = one(objects, 'Service', svcName);
    expect(service.metadata.namespace).toBe(ns);
    expect((service.spec as { ports: { port: number }[] }).ports.map((p) => p.port)).toContain(Number(url.port));
  });

  it('has a description (kagent requires one) and a request timeout written as a Go duration', () => {
    const spec = remote.spec as { description: string; timeout: string };
    expect(spec.description.length).toBeGreaterThan(20);
    expect(spec.timeout).toMatch(/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  });
});

describe.skipIf(!!noGo)('the example Agent vault-agent', () => {
  let agent: KubeObject;
  let spec: AgentSpec;
  let remote: KubeObject;
  const mcp = (): McpServerTool => {
    const tools = spec.declarative?.tools ?? [];
    expect(tools).toHaveLength(1);
    return tools[0]?.mcpServer as McpServerTool;
  };

  beforeAll(async () => {
    const objects = await render('production');
    agent = one(objects, 'Agent', 'vault-agent');
    spec = agent.spec as AgentSpec;
    remote = one(objects, 'RemoteMCPServer', 'vault-mcp-remote');
  }, TOOL_TIMEOUT_MS);

  it.skipIf(!existsSync(AGENT_CRD))("is valid against kagent's Agent CRD", async () => {
    const schemas = new KubernetesSchemas(await kubernetesOpenApiDir());
    expect(crd(AGENT_CRD, schemas.objectMetaSchema()).validate(agent).errors).toEqual([]);
  }, TOOL_TIMEOUT_MS);

  it('is a kagent.dev/v1alpha2 Declarative agent with a model config and a system message', () => {
    expect(agent.apiVersion).toBe('kagent.dev/v1alpha2');
    expect(spec.type).toBe('Declarative');
    expect(spec.declarative?.modelConfig).toBeTruthy();
    expect(spec.declarative?.systemMessage).toBeTruthy();
    // kagent's CEL rule: systemMessage and systemMessageFrom are mutually exclusive.
    expect(spec.declarative?.systemMessageFrom).toBeUndefined();
  });

  it('takes its tools from the RemoteMCPServer in its own namespace', () => {
    const tool = spec.declarative?.tools?.[0];
    // kagent's CEL rules: type McpServer carries mcpServer and nothing else.
    expect(tool?.type).toBe('McpServer');
    expect(tool?.agent).toBeUndefined();
    expect(mcp()).toMatchObject({ apiGroup: 'kagent.dev', kind: 'RemoteMCPServer', name: remote.metadata.name });
    expect(agent.metadata.namespace).toBe(remote.metadata.namespace);
  });

  it("uses every one of the server's tools, each once", () => {
    const names = mcp().toolNames ?? [];
    expect([...names].sort()).toEqual([...READ_TOOLS, ...WRITE_TOOLS].sort());
    expect(new Set(names).size).toBe(names.length);
  });

  it('requires a person to approve every tool that changes Vault, and no read-only tool', () => {
    const approval = mcp().requireApproval ?? [];
    expect([...approval].sort()).toEqual([...WRITE_TOOLS].sort());
    for (const t of READ_TOOLS) expect(approval).not.toContain(t);
  });

  it("keeps within kagent's API rules: requireApproval is a subset of toolNames, at most 50 of each, at most 20 tools", () => {
    const { toolNames = [], requireApproval = [] } = mcp();
    expect(requireApproval.filter((t) => !toolNames.includes(t))).toEqual([]);
    expect(toolNames.length).toBeLessThanOrEqual(50);
    expect(requireApproval.length).toBeLessThanOrEqual(50);
    expect((spec.declarative?.tools ?? []).length).toBeLessThanOrEqual(20);
  });

  it('matches the server: every tool it defines is listed, and each one not marked readOnlyHint needs approval', () => {
    const tools = serverTools();
    expect(tools.size).toBeGreaterThan(0);
    expect([...tools.keys()].sort()).toEqual([...(mcp().toolNames ?? [])].sort());
    const writes = [...tools].filter(([, readOnly]) => !readOnly).map(([name]) => name);
    expect(writes.sort()).toEqual([...(mcp().requireApproval ?? [])].sort());
  });

  it('names, in its instructions, every tool that needs approval', () => {
    for (const t of WRITE_TOOLS) expect(spec.declarative?.systemMessage).toContain(t);
  });
});
