import type { Writable } from 'node:stream';
import { Option } from 'commander';
import type { Command } from 'commander';
import type { FindingFilter } from '../../protocol/api.js';
import type { StoredFinding } from '../../protocol/finding.js';
import type { StreamState } from '../../transport/stream-client.js';
import { findingLine } from '../format.js';
import { action, exitWith, untilStopped } from '../context.js';
import type { CliContext } from '../context.js';
import { addFilterOptions, configOption, durationArg, filterFrom, matchesFilter } from '../options.js';
import type { FilterOptions } from '../options.js';

interface TailOptions extends FilterOptions {
  since?: number;
  json?: boolean;
  config?: string;
}

/**
 * Holds `stream`'s writes until the end of the current turn, so the lines of one batch of stream messages (a socket
 * read holds many) leave in one write: at 10,000 findings/s a write per line was a fifth of tail's CPU. `release`
 * writes what is held now: a command that ends (and may exit) in the same turn must not leave lines corked.
 */
function writeOncePerTurn(stream: Writable): { hold(): void; release(): void } {
  let corked = false;
  const release = (): void => {
    if (!corked) return;
    corked = false;
    stream.uncork();
  };
  return {
    hold() {
      if (corked) return;
      corked = true;
      stream.cork();
      process.nextTick(release);
    },
    release,
  };
}

/** Prints a finding that passes the filter, once; `flush()` writes out what the current turn printed. */
export type FindingPrinter = ((f: StoredFinding) => void) & { flush(): void };

/** Prints findings that pass the filter, each once, whichever way they arrive (history page or stream). */
export function createFindingPrinter(ctx: CliContext, filter: FindingFilter, json: boolean): FindingPrinter {
  const seen = new Set<number>();
  const batch = writeOncePerTurn(ctx.deps.stdout);
  const print = (f: StoredFinding): void => {
    if (seen.has(f.id) || !matchesFilter(f, filter)) return;
    batch.hold();
    seen.add(f.id);
    if (seen.size > 100_000) seen.delete(seen.values().next().value as number);
    if (json) {
      ctx.out.printJsonLine(f);
      return;
    }
    ctx.out.printLine(findingLine(f));
  };
  return Object.assign(print, { flush: batch.release });
}

/** Turns stream state changes into stderr status lines: the first loss, the recovery and non-fatal notices, not every retry. */
export function createStateReporter(ctx: CliContext): (state: StreamState, detail?: string) => void {
  let opened = false;
  let down = false;
  return (state, detail) => {
    switch (state) {
      case 'connecting':
        if (detail !== undefined && !down) ctx.out.status(`okesu: ${opened ? 'stream lost' : 'cannot open the stream'}: ${detail}`);
        if (detail !== undefined) down = true;
        return;
      case 'open':
        if (detail !== undefined) ctx.out.status(`okesu: ${detail}`);
        else if (down) ctx.out.status('okesu: stream reconnected');
        if (detail === undefined) down = false;
        opened = true;
        return;
      case 'closed':
        if (detail !== undefined) ctx.out.status(`okesu: stream closed: ${detail}`);
        return;
    }
  };
}

/** Findings per history page for `--since`. */
export const HISTORY_PAGE = 1000;

/** Registers `okesu tail` (SPEC §8.2). */
export function registerTail(program: Command, ctx: CliContext): void {
  addFilterOptions(program.command('tail'))
    .description('follow new findings live, one line each; reconnects by itself and misses nothing')
    .addOption(new Option('--since <duration>', 'first replay findings from the last DURATION (e.g. 1h)').argParser(durationArg))
    .option('--json', 'one StoredFinding JSON per line (JSONL for jq); nothing else on stdout')
    .addOption(configOption())
    .addHelpText('after', '\n--severity L means L and above. Status goes to stderr; stop with Ctrl-C.\nExamples:\n  okesu tail --severity high\n  okesu tail --since 1h --json | jq .title')
    .action(
      action(ctx, async (opts: TailOptions) => {
        const filter = filterFrom(opts);
        const { config, client } = ctx.connect(opts.config);
        const print = createFindingPrinter(ctx, filter, opts.json ?? false);
        let after: number | undefined;
        if (opts.since !== undefined) {
          // Page through history oldest first. The first page's cursor is where the stream resumes: findings
          // stored after it may appear both in a later page and on the stream, and the printer drops repeats by id.
          const since_ms = ctx.now() - opts.since;
          let afterId = 0;
          for (;;) {
            const page = await client.findings({ ...filter, since_ms, after_id: afterId, limit: HISTORY_PAGE });
            after ??= page.cursor;
            for (const f of page.findings) print(f);
            if (page.findings.length < HISTORY_PAGE) break;
            afterId = page.findings[page.findings.length - 1]?.id ?? afterId;
          }
        }
        let fatal: string | undefined;
        let endTail: () => void = () => undefined;
        const ended = new Promise<void>((resolve) => {
          endTail = resolve;
        });
        const report = createStateReporter(ctx);
        const stream = ctx.openStream(config, {
          ...(after !== undefined && { after }),
          kinds: ['finding'],
          filter,
          onMessage: (msg) => {
            if (msg.type === 'finding') print(msg.finding);
          },
          onState: (state, detail) => {
            if (state === 'closed' && detail !== undefined) {
              fatal = detail;
              endTail();
            } else {
              report(state, detail);
            }
          },
        });
        await untilStopped(ctx.deps, ended);
        stream.close();
        print.flush();
        if (fatal !== undefined) {
          ctx.out.status(`okesu: ${fatal}`);
          exitWith(1, fatal);
        }
      }),
    );
}
