import { z } from 'zod';

/** One replica of the CP as `GET /v1/replicas` and `okesu cp replicas` show it. */
export const replicaViewSchema = z.object({
  id: z.string().max(200),
  /** The replica's own address (not the balancer's). */
  url: z.string().max(2000),
  version: z.string().max(200),
  started_at: z.number().int(),
  /** When it last announced itself (every 2 s). */
  heard_at: z.number().int(),
  /** Heard within the liveness window (10 s). */
  alive: z.boolean(),
  /** Tunnels it holds. */
  tunnels: z.number().int().nonnegative(),
  /** Its machine's 1-minute load average. */
  load: z.number().nonnegative(),
  leader: z.boolean(),
});
export type ReplicaView = z.infer<typeof replicaViewSchema>;

/** `GET /v1/replicas`: every replica in the store, and which one answered. */
export const replicasResponseSchema = z.object({
  replicas: z.array(replicaViewSchema).max(10_000),
  /** The replica that answered this request. */
  answered_by: z.string().max(200),
  /** `single` (SQLite, one process) or `cluster` (PostgreSQL + NATS). */
  mode: z.enum(['single', 'cluster']),
  /** False while this replica's bus is disconnected (cluster mode). */
  bus_connected: z.boolean(),
});
export type ReplicasResponse = z.infer<typeof replicasResponseSchema>;
