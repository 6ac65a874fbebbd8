/** How a daimon reaches its CP (`okesu daemon --transport`): the tunnel, the jobs bucket, or both (auto). */
export const TRANSPORT_MODES = ['tunnel', 'jobs', 'auto'] as const;
/** One of TRANSPORT_MODES. */
export type TransportMode = (typeof TRANSPORT_MODES)[number];
