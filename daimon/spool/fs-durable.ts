import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { PRIVATE_FILE_MODE } from '../../src/files/private-dir.js';

/** Makes a directory's entries (created, renamed or removed files) durable; a no-op where directories cannot be fsync'd. */
export async function fsyncDir(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch (err) {
    // Windows and a few file systems refuse to open or fsync a directory; there is nothing more to do there.
    if (!isErrno(err, 'EISDIR', 'EINVAL', 'EPERM', 'EACCES')) throw err;
  } finally {
    await handle?.close();
  }
}

/** Replaces `file` with `text` atomically (temporary file 0600 whatever the umask, fsync, rename over, fsync the directory). */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp`;
  const handle = await fsp.open(tmp, 'w', PRIVATE_FILE_MODE);
  try {
    await handle.chmod(PRIVATE_FILE_MODE);
    await writeFully(handle, Buffer.from(text, 'utf8'));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fsp.rename(tmp, file);
  await fsyncDir(path.dirname(file));
}

/** Writes the whole buffer at the handle's position, looping over short writes. */
export async function writeFully(handle: fsp.FileHandle, buf: Buffer): Promise<void> {
  let offset = 0;
  while (offset < buf.length) {
    const { bytesWritten } = await handle.write(buf, offset, buf.length - offset);
    if (bytesWritten <= 0) throw new Error('write returned no progress');
    offset += bytesWritten;
  }
}

/** True when `err` is a Node system error with one of the given codes. */
export function isErrno(err: unknown, ...codes: string[]): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && codes.includes(String(err.code));
}
