import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import { parseDuration } from '../protocol/duration.js';
import { CATEGORIES, SEVERITIES } from '../protocol/finding.js';
import type { Category, Severity } from '../protocol/finding.js';
import type { FindingFilter } from '../protocol/api.js';
import type { OutputFormat } from './output.js';
import { LOG_FORMATS } from './pretty-log.js';

/** Commander parser for a duration flag (`30s`, `5m`, `1h`, `7d`); a bad value becomes a usage error naming the flag. */
export function durationArg(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) throw new InvalidArgumentError('expected a duration like 30s, 5m, 1h or 7d.');
  return ms;
}

/** Commander parser for a positive integer flag. */
export function positiveIntArg(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer.');
  return n;
}

/** Commander parser for `--severity`, any case. */
export function severityArg(value: string): Severity {
  const upper = value.trim().toUpperCase();
  if (!(SEVERITIES as readonly string[]).includes(upper)) {
    throw new InvalidArgumentError(`expected one of ${SEVERITIES.map((s) => s.toLowerCase()).join(', ')}.`);
  }
  return upper as Severity;
}

/** Commander parser for `--category`, any case. */
export function categoryArg(value: string): Category {
  const lower = value.trim().toLowerCase();
  if (!(CATEGORIES as readonly string[]).includes(lower)) throw new InvalidArgumentError(`expected one of ${CATEGORIES.join(', ')}.`);
  return lower as Category;
}

/** Splits `k=v`; the value is JSON when it parses (numbers, booleans, null, arrays, objects), else the raw string. */
export function parseInput(text: string): [string, unknown] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('expected key=value.');
  const key = text.slice(0, eq);
  const raw = text.slice(eq + 1);
  try {
    return [key, JSON.parse(raw) as unknown];
  } catch {
    return [key, raw];
  }
}

/** Commander collector for repeatable `--input k=v`. */
export function collectInput(value: string, previous: Record<string, unknown> | undefined): Record<string, unknown> {
  const [key, parsed] = parseInput(value);
  return { ...previous, [key]: parsed };
}

/** `--config FILE`, on every operator command. */
export function configOption(): Option {
  return new Option('--config <file>', 'client config (default: $OKESU_CONFIG, else ~/.config/okesu/config.yaml)');
}

/** Options shared by `findings`, `findings summary` and `tail`. */
export interface FilterOptions {
  severity?: Severity;
  host?: string;
  agent?: string;
  category?: Category;
}

/** Adds the finding filter flags to a command. */
export function addFilterOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--severity <level>', 'this level and above: critical, high, medium, low, info').argParser(severityArg))
    .option('--host <host>', 'only findings from this host')
    .option('--agent <agent>', 'only findings from this agent')
    .addOption(new Option('--category <category>', `only this category (${CATEGORIES.join(', ')})`).argParser(categoryArg));
}

/** The API filter for parsed filter flags (undefined fields left out). */
export function filterFrom(opts: FilterOptions): FindingFilter {
  const filter: FindingFilter = {};
  if (opts.severity) filter.severity = opts.severity;
  if (opts.host) filter.host = opts.host;
  if (opts.agent) filter.agent = opts.agent;
  if (opts.category) filter.category = opts.category;
  return filter;
}

/** The client-side guard behind the server's filtering (shared with the CP). */
export { matchesFilter } from '../protocol/finding-filter.js';

/** The formats of `-o/--output`. */
export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml'] as const;

/** `-o, --output <format>` of the list commands (`--json` stays, as `-o json`). */
export function outputOption(): Option {
  return new Option('-o, --output <format>', 'table (default, cut to the terminal), wide (every column, uncut), json or yaml').choices(OUTPUT_FORMATS);
}

/** The format a list command prints in: `--json` wins, then `--output`, else a table. */
export function outputFormat(opts: { json?: boolean; output?: OutputFormat }): OutputFormat {
  return opts.json ? 'json' : opts.output ?? 'table';
}

/** `--log-format` of the long-running roles (cp serve, daemon, supervise). */
export function logFormatOption(): Option {
  return new Option('--log-format <format>', 'json (one JSON object per line: journald and log collectors) or pretty (for people)').choices(LOG_FORMATS).default('json');
}
