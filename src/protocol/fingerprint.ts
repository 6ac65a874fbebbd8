import { hash } from 'node:crypto';
import type { FindingFields } from './finding.js';

/**
 * Keys whose values change between occurrences of the same issue; they never enter a fingerprint, so the same problem
 * under three pids is one group of three. Ids of an instance (pid, thread, process group, session, file descriptor,
 * socket inode), times and counters, and `cport`: the client's (ephemeral) port of a connection. A port that is the
 * problem's identity — a listener's, a connection's remote port — is written `port:` and stays.
 */
export const VOLATILE_RESOURCE_KEYS: ReadonlySet<string> = new Set([
  'pid', 'ppid', 'tid', 'pgid', 'sid', 'fd', 'inode', 'cport',
  'ts', 'time', 'timestamp', 'starttime', 'start_time', 'elapsed', 'age', 'uptime', 'count', 'seq',
]);

const SEPARATOR = /[,\s]/;

/** Lower-cases a title, turns every number into `#` and collapses whitespace, so counters never split a group. */
export function normalizeTitle(title: string): string {
  return title.toLowerCase().replace(/\d+(\.\d+)?/g, '#').replace(/\s+/g, ' ').trim();
}

/**
 * The stable part of a resource: its `key:value` pairs without volatile keys (pid, time, …),
 * sorted, so `pid:1337, binary:/usr/bin/x` and `binary:/usr/bin/x, pid:42` share a root.
 */
export function resourceRoot(resource: string): string {
  // One pair (the usual resource): the same answer without the split, sort and join.
  if (!SEPARATOR.test(resource)) return resource !== '' && VOLATILE_RESOURCE_KEYS.has((resource.split(':')[0] ?? '').toLowerCase()) ? '' : resource;
  return resource
    .split(/[,\s]+/)
    .map((pair) => pair.trim())
    .filter((pair) => pair !== '')
    .filter((pair) => !VOLATILE_RESOURCE_KEYS.has((pair.split(':')[0] ?? '').toLowerCase()))
    .sort()
    .join(',');
}

/** Fingerprint of a finding (SPEC §5.2): severity, normalized title, resource root and dedup key. */
export function fingerprintFinding(finding: Pick<FindingFields, 'severity' | 'title' | 'resource' | 'dedup_key'>): string {
  const material = [finding.severity, normalizeTitle(finding.title), resourceRoot(finding.resource), finding.dedup_key].join('\u0000');
  return hash('sha256', material, 'hex').slice(0, 32);
}
