import { setFlagsFromString } from 'node:v8';

/**
 * How `okesu daemon` runs its start-up: with V8's young generation held at its initial size and without the
 * optimising compiler (TurboFan), both given back once the daimon is started (its identity read, its tunnel opening),
 * so work after that runs as before. The daimon lives as long as the host and idles most of that time; its resident
 * memory is a measured target (bench/suites/daimon-footprint.ts).
 *
 * Why the young generation: start-up (evaluating the CLI's modules, building the wire schemas, reading the identity)
 * allocates objects that all survive, and V8 answers by growing the semi-spaces from 1 MiB towards 16 MiB, which an
 * idle process never gives back. Held for good instead of for start-up, the scavenges took 24 % of the daimon's CPU
 * under the e2e-latency feed instead of 11 %: a daimon busy with findings sizes it as before.
 *
 * Measured (idle RSS after 30 s, sequential A/B on one CP, load ~15): the bundle daimon 86–87 → 72–75 MiB (anon
 * 43–44 → 33–36, file 43 → 39), the single executable 82–86 → 76.5 MiB (anon 32–34 → 29, file 52–53 → 48).
 *
 * Why TurboFan: start-up code runs once, yet a few of its functions (zod's schema constructors under Node 20, path
 * normalisation during module resolution under Node 24) get hot enough to be optimised, and that one compile job
 * pages in ~4–6 MiB of the compiler's own machine code from the node binary, resident from then on. Code that runs once
 * gains little from optimising; work after start-up is optimised as before.
 *
 * Why run-time flags: `--max-semi-space-size` and `--no-turbofan` would have to be given when node starts, and the
 * daimon is started as `okesu daemon` by hand, by the supervisor and by the single executable alike. V8 reads both
 * flags at the moment it decides (a scavenge that would grow the space, a function that would be optimised). Only
 * this process: children (runs, the agent-catalog child) start with Node's defaults.
 */
export function holdForStartUp(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString('--no-turbofan');
}

/** Gives V8 its defaults back once `okesu daemon` is started (src/cli/commands/daemon.ts). */
export function releaseAfterStartUp(): void {
  setFlagsFromString('--semi-space-growth-factor=2');
  setFlagsFromString('--turbofan');
}
