import { request } from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import { OkesuError } from '../../errors.js';

/** Operator routes served by the leader alone: the orchestration engine, its triggers and the rollouts run there. */
const LEADER_PATHS = [/^\/v1\/orchestrations(\/|$)/, /^\/v1\/rollouts(\/|$)/];

/** Marks a request a replica forwarded, so it is never forwarded again (leadership may move meanwhile). */
export const FORWARDED_HEADER = 'x-okesu-forwarded-by';

/** Headers that describe one connection, not the request: never passed through a proxy (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function withoutHopByHop(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const named = new Set(String(headers['connection'] ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean));
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name) && !named.has(name)));
}

/** Whether a request path needs the leader. */
export function needsLeader(path: string): boolean {
  return LEADER_PATHS.some((re) => re.test(path));
}

/** Hands an operator request a follower cannot serve to the leader, and the leader's answer back. */
export interface LeaderForward {
  /** True when the request was taken over (forwarded, or answered with an error); false: serve it here. */
  maybeForward(req: IncomingMessage, res: ServerResponse): boolean;
}

/**
 * Forwards requests for the leader's routes from a follower to the leader, bytes in and out (the operator's token
 * travels with it and the leader checks it). The leader presents the cluster's shared server certificate: it is
 * trusted through the cluster's CA, whatever address it was reached at.
 */
export function createLeaderForward(deps: {
  replicaId: string;
  isLeader: () => boolean;
  /** The leader's own URL (its `replicas` row), undefined while no live replica leads. */
  leaderUrl: () => string | undefined;
  caPem: string;
  /** The cluster's shared server certificate: the leader must present exactly this one (not any the CA signed). */
  serverCertPem: string;
  log: Logger;
  /** Longest wait for the leader's answer to begin (default 60 s). */
  timeoutMs?: number;
}): LeaderForward {
  const expected = new X509Certificate(deps.serverCertPem).fingerprint256;
  const refuse = (res: ServerResponse, err: OkesuError): void => {
    res.writeHead(err.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(err.toBody()));
  };
  return {
    maybeForward(req, res) {
      const path = new URL(req.url ?? '/', 'https://cp.invalid').pathname;
      if (deps.isLeader() || !needsLeader(path)) return false;
      // Forwarded once already (leadership moved meanwhile, or a client set the header): never served by a follower,
      // whose engine would act beside the leader's.
      if (req.headers[FORWARDED_HEADER] !== undefined) {
        refuse(res, new OkesuError('OKS_ERR_NO_LEADER', 'leadership moved while the request was forwarded'));
        return true;
      }
      const target = deps.leaderUrl();
      if (target === undefined) {
        refuse(res, new OkesuError('OKS_ERR_NO_LEADER'));
        return true;
      }
      const url = new URL(req.url ?? '/', target);
      const headers = { ...withoutHopByHop(req.headers), host: url.host, [FORWARDED_HEADER]: deps.replicaId };
      const upstream = request(
        url,
        {
          method: req.method, headers, ca: [deps.caPem], timeout: deps.timeoutMs ?? 60_000,
          // The replica URL is an address, not a name in the certificate: the leader is known by the certificate itself.
          checkServerIdentity: (_host, cert) => (cert.fingerprint256 === expected ? undefined : new Error('the replica did not present the cluster\'s server certificate')),
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, withoutHopByHop(answer.headers));
          answer.pipe(res);
        },
      );
      upstream.on('timeout', () => upstream.destroy(new Error('no answer in time')));
      // The operator went away: so does the request to the leader.
      res.on('close', () => {
        if (!res.writableFinished) upstream.destroy();
      });
      upstream.on('error', (err) => {
        deps.log.warn({ err: err.message, leader: target, path }, 'forwarding to the leader failed');
        if (!res.headersSent) refuse(res, new OkesuError('OKS_ERR_NO_LEADER', `the leader at ${target} did not answer: ${err.message}`));
        else res.destroy();
      });
      req.pipe(upstream);
      return true;
    },
  };
}
