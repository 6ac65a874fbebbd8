import { request } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { OkesuError } from '../../errors.js';

/** Operator routes served by the leader alone: the orchestration engine, its triggers and the rollouts run there. */
const LEADER_PATHS = [/^\/v1\/orchestrations(\/|$)/, /^\/v1\/rollouts(\/|$)/];

/** Marks a request a replica forwarded, so it is never forwarded again (leadership may move meanwhile). */
export const FORWARDED_HEADER = 'x-okesu-forwarded-by';

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
  log: Logger;
}): LeaderForward {
  const refuse = (res: ServerResponse, err: OkesuError): void => {
    res.writeHead(err.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(err.toBody()));
  };
  return {
    maybeForward(req, res) {
      const path = new URL(req.url ?? '/', 'https://cp.invalid').pathname;
      if (deps.isLeader() || !needsLeader(path) || req.headers[FORWARDED_HEADER] !== undefined) return false;
      const target = deps.leaderUrl();
      if (target === undefined) {
        refuse(res, new OkesuError('OKS_ERR_NO_LEADER'));
        return true;
      }
      const url = new URL(req.url ?? '/', target);
      const headers = { ...req.headers, host: url.host, [FORWARDED_HEADER]: deps.replicaId };
      const upstream = request(
        url,
        { method: req.method, headers, ca: [deps.caPem], checkServerIdentity: () => undefined },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
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
