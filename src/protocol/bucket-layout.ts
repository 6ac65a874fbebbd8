import { RUN_ID_RE } from './ids.js';

/**
 * Where each object of the jobs transport lives, under the bucket's prefix (docs/jobs-mode.md). Chosen so that each
 * side's routine cost is one LIST: the daimon lists only its own inbox; the CP lists `out/` (what hosts wrote and it
 * has not consumed yet: empty when idle), `hb/` (one small object per host) and `reg/` (pending registrations).
 *
 *   hosts/<host>/inbox/<run>.job      CP → host: a dispatch          (deleted by the CP after the run's exit)
 *   hosts/<host>/inbox/<run>.cancel   CP → host: cancel a run        (idem)
 *   hosts/<host>/inbox/<run>.claim    host: conditional create, once (idem)
 *   hosts/<host>/inbox/<rollout>.upgrade  CP → host: an upgrade order   (deleted by the CP once the host is final in that rollout)
 *   out/<host>/<ms>-<nonce>.events    host → CP: event records       (deleted once ingested)
 *   out/<host>/<ms>-<nonce>.exit      host → CP: a run's last record is in the bucket (deleted once handled)
 *   out/<host>/<ms>-<nonce>.upgrade   host → CP: an upgrade report   (deleted once handled)
 *   releases/<version>/artifact       CP → hosts: a release's executable (unsigned by the CP: the release's own signed
 *   releases/<version>/release.json   manifest, with its SHA-256 and size, is what a host checks)
 *   hb/<host>                         host → CP: heartbeat, overwritten each time
 *   reg/<host>/<nonce>.req            would-be host → CP: registration request (deleted once answered)
 *   reg/<host>/<nonce>.ans            CP → would-be host: the answer (deleted by the host, or by the CP after a day)
 *   reg/<host>/<nonce>.renew          host → CP: certificate renewal, signed with its current key (deleted once answered)
 *   reg/<host>/<nonce>.renewed        CP → host: the new certificate, or the refusal (deleted by the host, or by the CP after a day)
 *   quarantine/<ms>/<original key>    what failed verification, moved here unread past the header, with
 *   quarantine/<ms>/<original key>.reason   a JSON note saying why
 *   probe/<random>                    a start-up check that conditional creates work (deleted at once)
 */
export interface BucketLayout {
  /** The prefix with a trailing slash, or '' for the bucket's root. */
  readonly root: string;
  inbox(host: string): string;
  job(host: string, runId: string): string;
  cancel(host: string, runId: string): string;
  claim(host: string, runId: string): string;
  /** The CP's order to `host` to upgrade, one per rollout. */
  upgrade(host: string, rolloutId: string): string;
  outbox(): string;
  hostOutbox(host: string): string;
  events(host: string, at: number, nonce: string): string;
  exit(host: string, at: number, nonce: string): string;
  /** A host's report on an upgrade (its state in a rollout). */
  upgradeReport(host: string, at: number, nonce: string): string;
  /** Where a release's objects live: `releases/<version>/`. */
  release(version: string): string;
  releaseArtifact(version: string): string;
  /** The signed release (manifest + signature) as JSON. */
  releaseManifest(version: string): string;
  heartbeats(): string;
  heartbeat(host: string): string;
  registrations(): string;
  regRequest(host: string, nonce: string): string;
  regAnswer(host: string, nonce: string): string;
  renewRequest(host: string, nonce: string): string;
  renewAnswer(host: string, nonce: string): string;
  quarantine(originalKey: string, at: number): string;
  /** Where a process checks, once at start, that the store honours conditional creates (probe-conditional-writes.ts). */
  probe(): string;
  /** The key without the prefix (what a signed header names), or undefined when the key is not under the prefix. */
  relative(key: string): string | undefined;
}

/** Builds the layout for `prefix` ('' or `a/b`, no leading or trailing slash). */
export function bucketLayout(prefix: string): BucketLayout {
  const root = prefix === '' ? '' : `${prefix}/`;
  const stamp = (at: number): string => String(at).padStart(13, '0');
  return {
    root,
    inbox: (host) => `${root}hosts/${host}/inbox/`,
    job: (host, runId) => `${root}hosts/${host}/inbox/${runId}.job`,
    cancel: (host, runId) => `${root}hosts/${host}/inbox/${runId}.cancel`,
    claim: (host, runId) => `${root}hosts/${host}/inbox/${runId}.claim`,
    upgrade: (host, rolloutId) => `${root}hosts/${host}/inbox/${rolloutId}.upgrade`,
    outbox: () => `${root}out/`,
    hostOutbox: (host) => `${root}out/${host}/`,
    events: (host, at, nonce) => `${root}out/${host}/${stamp(at)}-${nonce}.events`,
    exit: (host, at, nonce) => `${root}out/${host}/${stamp(at)}-${nonce}.exit`,
    upgradeReport: (host, at, nonce) => `${root}out/${host}/${stamp(at)}-${nonce}.upgrade`,
    release: (version) => `${root}releases/${version}/`,
    releaseArtifact: (version) => `${root}releases/${version}/artifact`,
    releaseManifest: (version) => `${root}releases/${version}/release.json`,
    heartbeats: () => `${root}hb/`,
    heartbeat: (host) => `${root}hb/${host}`,
    registrations: () => `${root}reg/`,
    regRequest: (host, nonce) => `${root}reg/${host}/${nonce}.req`,
    regAnswer: (host, nonce) => `${root}reg/${host}/${nonce}.ans`,
    renewRequest: (host, nonce) => `${root}reg/${host}/${nonce}.renew`,
    renewAnswer: (host, nonce) => `${root}reg/${host}/${nonce}.renewed`,
    quarantine: (originalKey, at) => `${root}quarantine/${stamp(at)}/${originalKey.startsWith(root) ? originalKey.slice(root.length) : originalKey}`,
    probe: () => `${root}probe/`,
    relative: (key) => (key.startsWith(root) ? key.slice(root.length) : undefined),
  };
}

/** What a key under the layout is, read back from its name (the scanners' first filter; the signed header decides). */
export type ParsedKey =
  | { kind: 'job' | 'cancel' | 'claim'; host: string; runId: string }
  | { kind: 'upgrade'; host: string; rolloutId: string }
  | { kind: 'events' | 'exit' | 'upgrade_status'; host: string; at: number }
  | { kind: 'heartbeat'; host: string }
  | { kind: 'reg_req' | 'reg_ans' | 'renew_req' | 'renew_ans'; host: string; nonce: string }
  | { kind: 'quarantine' };

const REG_KINDS = { req: 'reg_req', ans: 'reg_ans', renew: 'renew_req', renewed: 'renew_ans' } as const;
// `.upgrade` in a host's outbox is its report (kind upgrade_status); in its inbox, the CP's order (kind upgrade).
const OUT_KINDS = { events: 'events', exit: 'exit', upgrade: 'upgrade_status' } as const;
const HOST = '([A-Za-z0-9][A-Za-z0-9.-]{0,252})';
const PATTERNS: ReadonlyArray<[RegExp, (m: RegExpMatchArray) => ParsedKey]> = [
  [new RegExp(`^hosts/${HOST}/inbox/(r_[0-9A-Z]{26})\\.(job|cancel|claim)$`), (m) => ({ kind: m[3] as 'job', host: m[1] as string, runId: m[2] as string })],
  [new RegExp(`^hosts/${HOST}/inbox/(ro_[0-9a-f]{16})\\.upgrade$`), (m) => ({ kind: 'upgrade', host: m[1] as string, rolloutId: m[2] as string })],
  [new RegExp(`^out/${HOST}/(\\d{13})-[0-9a-f]{8,32}\\.(events|exit|upgrade)$`), (m) => ({ kind: OUT_KINDS[m[3] as keyof typeof OUT_KINDS], host: m[1] as string, at: Number(m[2]) })],
  [new RegExp(`^hb/${HOST}$`), (m) => ({ kind: 'heartbeat', host: m[1] as string })],
  [new RegExp(`^reg/${HOST}/([0-9a-f]{32})\\.(req|ans|renew|renewed)$`), (m) => ({ kind: REG_KINDS[m[3] as keyof typeof REG_KINDS], host: m[1] as string, nonce: m[2] as string })],
  [/^quarantine\//, () => ({ kind: 'quarantine' })],
];

/** Parses a key relative to the prefix; undefined when it is not a key of the layout (then it is quarantined). */
export function parseBucketKey(relativeKey: string): ParsedKey | undefined {
  for (const [re, build] of PATTERNS) {
    const m = relativeKey.match(re);
    if (m) return build(m);
  }
  return undefined;
}

/** True for a run id as the layout uses it. */
export const isRunId = (s: string): boolean => RUN_ID_RE.test(s);
