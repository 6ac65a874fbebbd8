import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importGraph, staticClosure, type ImportEdge } from './support/import-graph.js';

// The dependency direction of docs/architecture.md ("Dependency direction"), checked over every import of our source:
//   src/protocol, src/specs, src/text, src/errors (pure) ← src/transport, src/pki, src/files, src/release, src/metrics (shared)
//   ← src/cp, daimon/, tui/ (one process each) ← src/lifecycle, src/deploy, src/cli
// eslint.config.js repeats the simple rules as no-restricted-imports so editors show them; this test is the full check.

const root = fileURLToPath(new URL('..', import.meta.url));
const edges = importGraph(root, ['src', 'daimon', 'tui']);

/** One rule: which importers it governs, and whether one of their imports breaks it. */
interface Rule {
  name: string;
  /** The importing files the rule applies to. */
  applies: (file: string) => boolean;
  /** True when this import breaks the rule. */
  forbids: (edge: ImportEdge) => boolean;
}

const under = (...dirs: string[]) => (path: string | null): boolean =>
  path !== null && dirs.some((dir) => (dir.endsWith('.ts') || dir.endsWith('.tsx') ? path === dir : path.startsWith(`${dir}/`)));
const ours = (edge: ImportEdge): edge is ImportEdge & { target: string } => edge.target !== null;
const pkg = (edge: ImportEdge): string | null => (edge.target === null && !edge.specifier.startsWith('node:') ? edge.specifier : null);
const builtin = (edge: ImportEdge): string | null => (edge.specifier.startsWith('node:') ? edge.specifier : null);
const runtime = (edge: ImportEdge): boolean => edge.kind !== 'type';

const pure = under('src/protocol', 'src/specs', 'src/text', 'src/errors.ts', 'src/version.ts');
const shared = under('src/transport', 'src/pki', 'src/files', 'src/release', 'src/metrics');
const top = under('src/lifecycle', 'src/deploy', 'src/cli');
const consoleClient = under('tui/client', 'src/transport/operator-client.ts', 'src/transport/stream-client.ts');
// The agent catalog reads agent files from its search path; the rest of src/specs takes text and returns values.
const specsReaders = under('src/specs/agent-catalog.ts', 'src/specs/builtin-agents-dir.ts');
// Built-ins with no IO: hashing (fingerprints, ids), path arithmetic, URL conversion.
const ioFreeBuiltins = new Set(['node:crypto', 'node:path', 'node:url']);

const rules: Rule[] = [
  {
    name: 'src/protocol imports nothing of ours outside src/protocol, no package but zod, no built-in but node:crypto',
    applies: under('src/protocol'),
    forbids: (e) => (ours(e) && !under('src/protocol')(e.target)) || (pkg(e) !== null && pkg(e) !== 'zod') || (builtin(e) !== null && builtin(e) !== 'node:crypto'),
  },
  {
    name: 'the pure layer (src/specs, src/text, src/errors.ts, src/version.ts) imports only the pure layer',
    applies: pure,
    forbids: (e) => ours(e) && !pure(e.target),
  },
  {
    name: 'the pure layer does no IO: no node:fs, net, child_process… (only the agent catalog of src/specs reads files)',
    applies: (f) => pure(f) && !specsReaders(f),
    forbids: (e) => builtin(e) !== null && !ioFreeBuiltins.has(e.specifier),
  },
  {
    name: 'the shared layer (src/transport, src/pki, src/files, src/release, src/metrics) imports only itself and the pure layer',
    applies: shared,
    forbids: (e) => ours(e) && !pure(e.target) && !shared(e.target),
  },
  {
    name: 'src/cp never imports daimon/, tui/, src/cli, src/lifecycle or src/deploy',
    applies: under('src/cp'),
    forbids: (e) => ours(e) && (under('daimon', 'tui')(e.target) || top(e.target)),
  },
  {
    name: 'daimon/ never imports src/cp, tui/, src/cli or src/deploy; of src/lifecycle only running-executable.ts',
    applies: under('daimon'),
    forbids: (e) =>
      ours(e) && (under('src/cp', 'tui', 'src/cli', 'src/deploy')(e.target) || (under('src/lifecycle')(e.target) && e.target !== 'src/lifecycle/running-executable.ts')),
  },
  {
    name: 'tui/ never imports src/cp, daimon/, src/cli, src/lifecycle or src/deploy',
    applies: under('tui'),
    forbids: (e) => ours(e) && (under('src/cp', 'daimon')(e.target) || top(e.target)),
  },
  {
    name: 'src/lifecycle uses the daimon only through daimon/lifecycle/, daimon/identity.ts and daimon/registration.ts',
    applies: under('src/lifecycle'),
    forbids: (e) =>
      ours(e) && (under('src/cp', 'tui', 'src/cli', 'src/deploy')(e.target) ||
        (under('daimon')(e.target) && !under('daimon/lifecycle', 'daimon/identity.ts', 'daimon/registration.ts')(e.target))),
  },
  {
    name: 'src/deploy talks to the CP only through the API: no src/cp, daimon/, tui/ or src/cli',
    applies: under('src/deploy'),
    forbids: (e) => ours(e) && under('src/cp', 'daimon', 'tui', 'src/cli')(e.target),
  },
  {
    name: "the console's components and views never load its client (tui/client, the operator and stream clients): types only",
    applies: under('tui/components', 'tui/views', 'tui/keys'),
    forbids: (e) => runtime(e) && ((ours(e) && consoleClient(e.target)) || pkg(e) === 'ws' || (builtin(e) !== null && !ioFreeBuiltins.has(e.specifier))),
  },
  {
    name: 'tui/store is pure: no React, no network, nothing of tui/ outside tui/store, no client',
    applies: under('tui/store'),
    forbids: (e) =>
      (ours(e) && ((under('tui')(e.target) && !under('tui/store')(e.target)) || (runtime(e) && consoleClient(e.target)))) ||
      (pkg(e) !== null && pkg(e) !== 'zod') || (builtin(e) !== null && !ioFreeBuiltins.has(e.specifier)),
  },
  {
    name: 'inside tui/: store ← client, hooks ← components, keys, views ← app.tsx ← run-console.tsx (never upwards)',
    applies: under('tui'),
    forbids: (e) => ours(e) && under('tui')(e.target) && tuiRank(e.target) > tuiRank(e.from),
  },
  {
    name: 'nothing imports test/ or bench/',
    applies: () => true,
    forbids: (e) => ours(e) && under('test', 'bench')(e.target),
  },
  {
    name: 'better-sqlite3 is imported only in src/cp/store/',
    applies: (f) => !under('src/cp/store')(f),
    forbids: (e) => pkg(e) === 'better-sqlite3',
  },
  {
    name: 'ink and react are imported only in tui/',
    applies: (f) => !under('tui')(f),
    forbids: (e) => runtime(e) && /^(ink|react|yoga)/.test(e.specifier),
  },
];

/** A tui/ module's place in the console's layers; imports go to the same or a lower rank. */
function tuiRank(file: string): number {
  if (under('tui/store')(file)) return 0;
  if (under('tui/client', 'tui/hooks', 'tui/theme.ts')(file)) return 1;
  if (under('tui/components', 'tui/keys', 'tui/views')(file)) return 2;
  if (file === 'tui/app.tsx') return 3;
  return 4; // run-console.tsx and tui/run/ (the terminal around the app)
}

/** What a file that loads on use may not evaluate with it (its static imports, transitively). */
const loadOnUse: { entry: string; why: string; forbidden: (module: string) => boolean }[] = [
  {
    entry: 'daimon/daimon.ts',
    why: 'a running daimon never evaluates the CP, its store, the X.509 toolkit or the console, nor prom-client without --metrics-listen',
    forbidden: (m) => under('src/cp', 'tui', 'src/cli')(m) || m === 'daimon/metrics/metrics-server.ts' || /^(better-sqlite3|@peculiar\/|ink|react|prom-client)/.test(m),
  },
  {
    entry: 'src/cli/program.ts',
    why: 'every command evaluates the CLI: the CP, the daimon process and the console load on use (import())',
    forbidden: (m) =>
      m === 'src/cp/cp-server.ts' || under('src/cp/store')(m) || m === 'daimon/daimon.ts' || m === 'tui/run-console.tsx' ||
      /^(better-sqlite3|ink|react)/.test(m),
  },
  {
    entry: 'src/cp/cp-server.ts',
    why: 'the CP loads prom-client on its first scrape (src/cp/metrics/cp-registry.ts, import()): its parts count in plain numbers',
    forbidden: (m) => m === 'prom-client' || m === 'src/cp/metrics/cp-registry.ts',
  },
];

const describeEdge = (e: ImportEdge): string => `${e.from}:${e.line} imports '${e.specifier}'${e.kind === 'static' ? '' : ` (${e.kind})`}`;

describe('architecture: the dependency direction of docs/architecture.md', () => {
  it('finds our source and its imports', () => {
    expect(edges.length).toBeGreaterThan(1000);
    expect(edges.some((e) => e.kind === 'dynamic')).toBe(true);
  });

  it.each(rules.map((rule) => [rule.name, rule] as const))('%s', (_name, rule) => {
    const broken = edges.filter((e) => rule.applies(e.from) && rule.forbids(e)).map((e) => `${describeEdge(e)} — breaks: ${rule.name}`);
    expect(broken).toEqual([]);
  });

  it.each(loadOnUse.map((check) => [check.entry, check] as const))('%s loads nothing heavy with it', (entry, check) => {
    const broken = [...staticClosure(edges, entry)].filter(check.forbidden).map((m) => `${entry} evaluates ${m} (static imports) — breaks: ${check.why}`);
    expect(broken).toEqual([]);
  });
});
