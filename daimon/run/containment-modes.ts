/** Which containment to use: the best this host allows (`auto`), or one forced (tests, operators who know better). */
export const CONTAINMENT_MODES = ['auto', 'cgroup', 'subreaper'] as const;
/** A containment mode. */
export type ContainmentMode = (typeof CONTAINMENT_MODES)[number];
