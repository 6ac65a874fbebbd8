import type { createRouter } from '../http/router.js';
import type { ReplicasResponse } from '../../protocol/replicas.js';

/** What the replicas route reads: the cluster's view of its replicas (a single CP lists itself). */
export interface ReplicasSource {
  replicas(): ReplicasResponse;
}

/** `GET /v1/replicas` (viewer): the CP's replicas with their tunnels, load and leadership (`okesu cp replicas`). */
export function addReplicaRoutes(router: ReturnType<typeof createRouter>, source: ReplicasSource): void {
  router.add('GET', '/v1/replicas', 'viewer', () => ({ json: source.replicas() }));
}
