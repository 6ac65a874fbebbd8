import type { Stats } from 'node:fs';
import { lstat, readlink } from 'node:fs/promises';
import { basename } from 'node:path';
import { z } from 'zod';
import { LineCap, TOOL_CAPS, showName, truncationNote } from './cap-output.js';
import { abortable, stoppedOutcome, toolSpec } from './host-tool.js';
import type { HostTool, ToolContext, ToolOutcome } from './host-tool.js';
import { fileType, ioError } from './tool-paths.js';
import { walkTree } from './walk-tree.js';
import type { WalkTally } from './walk-tree.js';

/** Default and largest `max_entries` of list_files. */
export const LIST_ENTRIES = { default: 1000, max: 10_000 } as const;

const input = z.strictObject({
  path: z.string().min(1, 'must not be empty').max(4096).describe('Directory to list (absolute, or relative to the working directory)'),
  recursive: z.boolean().optional().describe('List subdirectories too (symbolic links are not followed); default false'),
  max_entries: z.number().int().min(1).max(LIST_ENTRIES.max).optional().describe(`Most entries to return (default ${LIST_ENTRIES.default})`),
});

/** Input of the list_files tool. */
export type ListFilesInput = z.infer<typeof input>;

/** `list_files`: a directory's entries with type and size, optionally recursive; entries the gate denies are left out and counted. */
export const listFilesTool: HostTool<ListFilesInput> = {
  spec: toolSpec(
    'list_files',
    `List a directory on this host: one line per entry with type, size in bytes and path. Output is capped at ${TOOL_CAPS.list_files} bytes.`,
    input,
  ),
  input,
  subject: (i) => i.path,
  run: listFiles,
};

async function listFiles(i: ListFilesInput, ctx: ToolContext): Promise<ToolOutcome> {
  let root: Stats;
  try {
    root = await abortable(lstat(ctx.path), ctx.signal);
  } catch (err) {
    return ctx.signal.aborted ? stoppedOutcome(ctx) : { content: ioError(ctx.path, err), isError: true, truncated: false };
  }
  const out = new LineCap(TOOL_CAPS.list_files);
  out.add('type\tsize\tpath');
  if (!root.isDirectory()) {
    out.add(await entryLine(ctx.path, basename(ctx.path), root));
    return { content: out.text(), isError: false, truncated: false };
  }

  const max = i.max_entries ?? LIST_ENTRIES.default;
  const tally: WalkTally = { hidden: 0, unreadable: 0 };
  let entries = 0;
  let stoppedAtMax = false;
  try {
    for await (const entry of walkTree(ctx.path, { recursive: i.recursive ?? false, signal: ctx.signal, isHidden: ctx.isHidden }, tally)) {
      if (entries >= max) {
        stoppedAtMax = true;
        break;
      }
      if (!out.add(await entryLine(entry.path, entry.rel, entry.stat))) break;
      entries++;
    }
  } catch (err) {
    if (ctx.signal.aborted) return stoppedOutcome(ctx, out.text());
    return { content: ioError(ctx.path, err), isError: true, truncated: false };
  }

  const notes: string[] = [];
  if (entries === 0 && !out.truncated) notes.push('[empty directory]');
  if (out.truncated) notes.push(truncationNote(out.capBytes, `${entries} entries shown`));
  if (stoppedAtMax) notes.push(`[listing stopped at ${max} entries]`);
  if (tally.hidden > 0) notes.push(`[${tally.hidden} ${tally.hidden === 1 ? 'entry' : 'entries'} hidden by policy]`);
  if (tally.unreadable > 0) notes.push(`[${tally.unreadable} ${tally.unreadable === 1 ? 'directory' : 'directories'} could not be read]`);
  return { content: [out.text(), ...notes].join('\n'), isError: false, truncated: out.truncated || stoppedAtMax };
}

/** `file\t1234\tname`, `dir\t-\tname/`, `symlink\t-\tname -> target`. */
async function entryLine(path: string, rel: string, stat: Stats): Promise<string> {
  const type = fileType(stat);
  const name = showName(rel);
  if (stat.isDirectory()) return `dir\t-\t${name}/`;
  if (stat.isSymbolicLink()) {
    const target = await readlink(path).catch(() => '?');
    return `symlink\t-\t${name} -> ${showName(target)}`;
  }
  return `${type}\t${stat.isFile() ? stat.size : '-'}\t${name}`;
}
