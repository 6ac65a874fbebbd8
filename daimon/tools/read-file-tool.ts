import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { z } from 'zod';
import { cutUtf8 } from '../run/line-splitter.js';
import { TOOL_CAPS, looksBinary, truncationNote } from './cap-output.js';
import { abortable, stoppedOutcome, toolSpec } from './host-tool.js';
import type { HostTool, ToolContext, ToolOutcome } from './host-tool.js';
import { fileType, ioError } from './tool-paths.js';

const input = z.strictObject({
  path: z.string().min(1, 'must not be empty').max(4096).describe('Path of the file (absolute, or relative to the working directory)'),
  offset_bytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional().describe('Byte offset to start reading at (default 0)'),
  max_bytes: z.number().int().min(1).optional().describe(`Most bytes to return (default and cap ${TOOL_CAPS.read_file})`),
});

/** Input of the read_file tool. */
export type ReadFileInput = z.infer<typeof input>;

/** `read_file`: a regular file's text from an offset, capped; binary files are reported, not dumped. */
export const readFileTool: HostTool<ReadFileInput> = {
  spec: toolSpec(
    'read_file',
    `Read a text file on this host, from offset_bytes, at most ${TOOL_CAPS.read_file} bytes per call. Binary files are reported, not shown.`,
    input,
  ),
  input,
  subject: (i) => i.path,
  run: readFile,
};

async function readFile(i: ReadFileInput, ctx: ToolContext): Promise<ToolOutcome> {
  const fail = (content: string): ToolOutcome => ({ content, isError: true, truncated: false });
  const opening = open(ctx.path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  let handle: FileHandle;
  try {
    handle = await abortable(opening, ctx.signal);
  } catch (err) {
    opening.then((h) => h.close(), () => {}).catch(() => {});
    return ctx.signal.aborted ? stoppedOutcome(ctx) : fail(ioError(ctx.path, err));
  }
  try {
    const stat = await abortable(handle.stat(), ctx.signal);
    if (stat.isDirectory()) return fail(`${ctx.path} is a directory`);
    if (!stat.isFile()) return fail(`${ctx.path} is not a regular file (${fileType(stat)})`);

    const offset = i.offset_bytes ?? 0;
    const want = Math.min(i.max_bytes ?? TOOL_CAPS.read_file, TOOL_CAPS.read_file);
    // One byte more than wanted tells whether there is more (files in /proc report size 0).
    const buf = Buffer.alloc(want + 1);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await abortable(handle.read(buf, got, buf.length - got, offset + got), ctx.signal);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    const data = buf.subarray(0, Math.min(got, want));
    const size = stat.size > 0 ? `${stat.size} bytes` : 'size unknown';
    if (looksBinary(data)) return { content: `[binary file (${size}); not shown]`, isError: false, truncated: false };
    if (got === 0) {
      const past = offset > 0 && stat.size > 0 && offset >= stat.size;
      return { content: past ? `[offset ${offset} is past the end of the file (${size})]` : '[empty file]', isError: false, truncated: false };
    }
    const truncated = got > want;
    const text = truncated ? cutUtf8(buf.subarray(0, got), want) : data;
    let content = text.toString('utf8');
    if (truncated) content += `\n${truncationNote(want, `file ${size}; next offset_bytes ${offset + text.length}`)}`;
    return { content, isError: false, truncated };
  } catch (err) {
    return ctx.signal.aborted ? stoppedOutcome(ctx) : fail(ioError(ctx.path, err));
  } finally {
    await handle.close().catch(() => {});
  }
}
