// Evaluates Kubernetes NetworkPolicies the way the API defines them, so tests can ask "may this pod reach that one?".
import type { KubeObject } from './tools.ts';

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

interface PolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

interface PolicyPort {
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  port?: number | string;
  endPort?: number;
}

interface PolicyRule {
  from?: PolicyPeer[];
  to?: PolicyPeer[];
  ports?: PolicyPort[];
}

interface NetworkPolicySpec {
  podSelector: LabelSelector;
  policyTypes?: ('Ingress' | 'Egress')[];
  ingress?: PolicyRule[];
  egress?: PolicyRule[];
}

/** The other end of a connection: a pod (namespace and labels) or a plain IP address outside the cluster. */
export type Endpoint =
  | { namespace: string; namespaceLabels?: Record<string, string>; podLabels: Record<string, string> }
  | { ip: string };

export interface Connection {
  peer: Endpoint;
  port: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
}

/** Does a label selector select these labels? An empty selector selects everything. */
export function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    const ok =
      e.operator === 'In' ? has && (e.values ?? []).includes(value as string)
      : e.operator === 'NotIn' ? !has || !(e.values ?? []).includes(value as string)
      : e.operator === 'Exists' ? has
      : !has;
    if (!ok) return false;
  }
  return true;
}

function ipv4(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return parts.reduce((n, p) => n * 256 + p, 0);
}

export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/') as [string, string | undefined];
  const prefix = bits === undefined ? 32 : Number(bits);
  const size = 2 ** (32 - prefix);
  return Math.floor(ipv4(ip) / size) === Math.floor(ipv4(base) / size);
}

/** Kubernetes labels every namespace with its own name; tests may add more. */
function namespaceLabels(peer: { namespace: string; namespaceLabels?: Record<string, string> }): Record<string, string> {
  return { 'kubernetes.io/metadata.name': peer.namespace, ...peer.namespaceLabels };
}

function peerMatches(p: PolicyPeer, peer: Endpoint, policyNamespace: string): boolean {
  if ('ip' in peer) return !!p.ipBlock && inCidr(peer.ip, p.ipBlock.cidr) && !(p.ipBlock.except ?? []).some((c) => inCidr(peer.ip, c));
  if (p.ipBlock) return false; // pods are matched by selectors here, not by their (unknowable) IPs
  const nsOk = p.namespaceSelector ? selects(p.namespaceSelector, namespaceLabels(peer)) : peer.namespace === policyNamespace;
  return nsOk && selects(p.podSelector, peer.podLabels);
}

function portMatches(rulePorts: PolicyPort[] | undefined, c: Connection): boolean {
  if (!rulePorts || rulePorts.length === 0) return true;
  return rulePorts.some((p) => {
    if ((p.protocol ?? 'TCP') !== c.protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'string') throw new Error(`named port "${p.port}" is not supported by this evaluator`);
    return p.endPort === undefined ? p.port === c.port : c.port >= p.port && c.port <= p.endPort;
  });
}

function policyTypes(spec: NetworkPolicySpec): string[] {
  if (spec.policyTypes) return spec.policyTypes;
  return spec.egress ? ['Ingress', 'Egress'] : ['Ingress'];
}

/**
 * Is the connection allowed for a pod with these labels in this namespace, under these policies?
 * As in Kubernetes: a pod no policy selects (for that direction) is open; otherwise the union of the rules applies.
 */
export function allowed(
  policies: KubeObject[],
  direction: 'Ingress' | 'Egress',
  pod: { namespace: string; labels: Record<string, string> },
  c: Connection,
): boolean {
  const governing = policies
    .filter((p) => p.kind === 'NetworkPolicy' && (p.metadata.namespace ?? 'default') === pod.namespace)
    .map((p) => p.spec as NetworkPolicySpec)
    .filter((spec) => selects(spec.podSelector, pod.labels) && policyTypes(spec).includes(direction));
  if (governing.length === 0) return true;
  return governing.some((spec) =>
    (direction === 'Ingress' ? spec.ingress : spec.egress)?.some((rule) => {
      const peers = direction === 'Ingress' ? rule.from : rule.to;
      const peerOk = !peers || peers.length === 0 || peers.some((p) => peerMatches(p, c.peer, pod.namespace));
      return peerOk && portMatches(rule.ports, c);
    }) ?? false,
  );
}
