import { constants } from 'node:fs';
import type { Stats } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import { basename } from 'node:path';
import { z } from 'zod';
import { matchPattern } from '../../src/specs/glob-match.js';
import { LineCap, TOOL_CAPS, looksBinary, showName, truncationNote } from './cap-output.js';
import { abortable, stoppedOutcome, toolSpec } from './host-tool.js';
import type { HostTool, ToolContext, ToolOutcome } from './host-tool.js';
import { startRegexWorker } from './regex-worker.js';
import type { RegexWorker } from './regex-worker.js';
import { ioError } from './tool-paths.js';
import { walkTree } from './walk-tree.js';
import type { WalkEntry, WalkTally } from './walk-tree.js';

/** Limits of search: results per call, matching lines per file, characters per line, size of a file searched. */
export const SEARCH_LIMITS = { defaultResults: 200, maxResults: 1000, linesPerFile: 50, lineChars: 500, fileBytes: 4 * 1024 * 1024 } as const;

const regexSource = z
  .string()
  .min(1, 'must not be empty')
  .max(1024)
  .superRefine((source, ctx) => {
    const error = compileError(source);
    if (error) ctx.addIssue({ code: 'custom', message: `is not a valid JavaScript regular expression: ${error}` });
  });

const input = z.strictObject({
  pattern: regexSource.describe('JavaScript regular expression matched against each line'),
  path: z.string().min(1, 'must not be empty').max(4096).describe('File or directory to search, recursively (absolute, or relative to the working directory)'),
  glob: z.string().min(1).max(1024).optional().describe('Only files whose name (or, with a /, whose path below `path`) matches this glob, e.g. *.log'),
  ignore_case: z.boolean().optional().describe('Match without regard to case (default false)'),
  max_results: z.number().int().min(1).max(SEARCH_LIMITS.maxResults).optional().describe(`Most matching lines to return (default ${SEARCH_LIMITS.defaultResults})`),
});

/** Input of the search tool. */
export type SearchInput = z.infer<typeof input>;

/** `search`: grep in pure Node: matching lines as `path:line:text`; binary, oversized and denied files are skipped. */
export const searchTool: HostTool<SearchInput> = {
  spec: toolSpec(
    'search',
    `Search files on this host for lines matching a regular expression, recursively. Prints path:line:text; at most ${SEARCH_LIMITS.linesPerFile} lines per file; output capped at ${TOOL_CAPS.search} bytes. Binary files and files over ${SEARCH_LIMITS.fileBytes} bytes are skipped.`,
    input,
  ),
  input,
  subject: (i) => i.path,
  run: search,
};

interface Tally extends WalkTally {
  binary: number;
  large: number;
  files: number;
}

async function search(i: SearchInput, ctx: ToolContext): Promise<ToolOutcome> {
  let root: Stats;
  try {
    root = await abortable(lstat(ctx.path), ctx.signal);
  } catch (err) {
    return ctx.signal.aborted ? stoppedOutcome(ctx) : { content: ioError(ctx.path, err), isError: true, truncated: false };
  }
  const worker = startRegexWorker({
    source: i.pattern,
    flags: i.ignore_case ? 'i' : '',
    maxLines: SEARCH_LIMITS.linesPerFile,
    maxChars: SEARCH_LIMITS.lineChars,
  });
  const stop = (): void => void worker.close();
  ctx.signal.addEventListener('abort', stop, { once: true });
  const out = new LineCap(TOOL_CAPS.search);
  const max = i.max_results ?? SEARCH_LIMITS.defaultResults;
  const tally: Tally = { hidden: 0, unreadable: 0, binary: 0, large: 0, files: 0 };
  let results = 0;
  let cutFiles = 0;
  let full = false;
  try {
    const files = root.isDirectory()
      ? walkTree(ctx.path, { recursive: true, signal: ctx.signal, isHidden: ctx.isHidden }, tally)
      : single(ctx.path, root);
    for await (const entry of files) {
      if (!entry.stat.isFile() || !wanted(i.glob, entry)) continue;
      const found = await searchFile(entry, worker, ctx, tally);
      if (found.more) cutFiles++;
      for (const m of found.matches) {
        if (results >= max || !out.add(`${showName(entry.path)}:${m.line}:${m.text}`)) {
          full = true;
          break;
        }
        results++;
      }
      if (full) break;
    }
  } catch (err) {
    if (ctx.signal.aborted) return stoppedOutcome(ctx, out.text());
    return { content: `search failed: ${(err as Error).message}`, isError: true, truncated: false };
  } finally {
    ctx.signal.removeEventListener('abort', stop);
    await worker.close();
  }

  const notes: string[] = [];
  if (results === 0 && !full) notes.push(`[no matches in ${tally.files} ${tally.files === 1 ? 'file' : 'files'}]`);
  if (out.truncated) notes.push(truncationNote(out.capBytes, `${results} matching lines shown`));
  else if (full) notes.push(`[stopped at ${max} matching lines]`);
  if (cutFiles > 0) notes.push(`[${cutFiles} ${cutFiles === 1 ? 'file has' : 'files have'} more than ${SEARCH_LIMITS.linesPerFile} matching lines; the rest are not shown]`);
  if (tally.hidden > 0) notes.push(`[${tally.hidden} ${tally.hidden === 1 ? 'entry' : 'entries'} hidden by policy]`);
  if (tally.binary > 0) notes.push(`[${tally.binary} binary ${tally.binary === 1 ? 'file' : 'files'} skipped]`);
  if (tally.large > 0) notes.push(`[${tally.large} ${tally.large === 1 ? 'file' : 'files'} over ${SEARCH_LIMITS.fileBytes} bytes skipped]`);
  if (tally.unreadable > 0) notes.push(`[${tally.unreadable} ${tally.unreadable === 1 ? 'file or directory' : 'files or directories'} could not be read]`);
  return { content: [out.text(), ...notes].filter((s) => s !== '').join('\n'), isError: false, truncated: full || cutFiles > 0 };
}

async function* single(path: string, stat: Stats): AsyncGenerator<WalkEntry> {
  yield { path, rel: basename(path), type: 'file', stat };
}

/** Whether a file passes the `glob` filter: a glob without `/` is matched against the name, else against the path below the root. */
function wanted(glob: string | undefined, entry: WalkEntry): boolean {
  if (glob === undefined) return true;
  return glob.includes('/') ? matchPattern(glob, entry.rel, 'path') : matchPattern(glob, basename(entry.path), 'path');
}

async function searchFile(entry: WalkEntry, worker: RegexWorker, ctx: ToolContext, tally: Tally): Promise<{ matches: { line: number; text: string }[]; more: boolean }> {
  const none = { matches: [], more: false };
  if (entry.stat.size > SEARCH_LIMITS.fileBytes) {
    tally.large++;
    return none;
  }
  let data: Buffer;
  try {
    data = await abortable(readCapped(entry.path, SEARCH_LIMITS.fileBytes), ctx.signal);
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    tally.unreadable++;
    return none;
  }
  if (data.length > SEARCH_LIMITS.fileBytes) {
    tally.large++;
    return none;
  }
  if (looksBinary(data)) {
    tally.binary++;
    return none;
  }
  tally.files++;
  return worker.match(data.toString('utf8'));
}

/** Reads at most `max + 1` bytes of a regular file (not following a symlink put in its place), so an oversized file is seen as such. */
async function readCapped(path: string, max: number): Promise<Buffer> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  try {
    // Files in /proc report size 0, so read in chunks until the end rather than trusting the size.
    const chunks: Buffer[] = [];
    let got = 0;
    while (got <= max) {
      const chunk = Buffer.alloc(Math.min(64 * 1024, max + 1 - got));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, got);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      got += bytesRead;
    }
    return Buffer.concat(chunks, got);
  } finally {
    await handle.close();
  }
}

function compileError(source: string): string | undefined {
  try {
    new RegExp(source);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
