import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createWriteStream, fsyncSync, openSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { OkesuError } from '../../errors.js';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '../../files/private-dir.js';

/** Where releases live in the CP's state directory: `releases/VERSION/artifact`, uploads in flight in `releases/.tmp/`. */
export interface ReleaseLayout {
  /** `STATE/releases`: one directory per version. */
  root: string;
  /** `STATE/releases/.tmp`: uploads in flight, renamed into place once verified. */
  tmp: string;
  /** The directory of one version. */
  dir(version: string): string;
  /** The artifact (the executable) of one version. */
  artifact(version: string): string;
}

/** The release layout under one state directory. */
export function releaseLayout(stateDir: string): ReleaseLayout {
  const root = join(stateDir, 'releases');
  return {
    root,
    tmp: join(root, '.tmp'),
    dir: (version: string): string => join(root, version),
    artifact: (version: string): string => join(root, version, 'artifact'),
  };
}

/** What an upload turned out to be. */
export interface ReceivedArtifact {
  path: string;
  size: number;
  sha256: string;
}

/**
 * Streams `artifact` into a new file of `tmpDir` (0600) while hashing it, never holding it whole in memory. More than
 * `maxSize` bytes is refused as soon as they arrive (OKS_ERR_RELEASE_MISMATCH). The file is fsync'd; on any failure it
 * is removed before the error is thrown.
 */
export async function receiveArtifact(artifact: Readable, tmpDir: string, maxSize: number): Promise<ReceivedArtifact> {
  ensurePrivateDir(tmpDir);
  const path = join(tmpDir, `upload-${randomBytes(8).toString('hex')}`);
  const hash = createHash('sha256');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > maxSize) {
        done(new OkesuError('OKS_ERR_RELEASE_MISMATCH', `the artifact is longer than the ${maxSize} bytes its manifest says`));
        return;
      }
      hash.update(chunk);
      done(null, chunk);
    },
  });
  // Opened here, synchronously: a write stream destroyed while its own (asynchronous) open is pending creates the file
  // after the removal below, and a refused upload would leave it behind.
  const out = createWriteStream(path, { fd: openSync(path, 'wx', PRIVATE_FILE_MODE) });
  try {
    await pipeline(artifact, meter, out);
    const fd = openSync(path, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
    rmSync(path, { force: true });
    if (err instanceof OkesuError) throw err;
    // The uploader went away (connection reset, request aborted): nothing is kept.
    throw new OkesuError('OKS_ERR_BAD_REQUEST', `the upload ended after ${size} bytes: ${(err as Error).message}`);
  }
  return { path, size, sha256: hash.digest('hex') };
}

/**
 * Makes the release directory consistent with the table at start: uploads a crash interrupted are removed, and so are
 * version directories no row names (a crash between the rename and the commit). Returns the versions whose
 * directories are kept.
 */
export function sweepReleaseDir(layout: ReleaseLayout, known: ReadonlySet<string>): string[] {
  ensurePrivateDir(layout.root);
  rmSync(layout.tmp, { recursive: true, force: true });
  const kept: string[] = [];
  for (const name of readdirSync(layout.root)) {
    if (known.has(name)) kept.push(name);
    else rmSync(join(layout.root, name), { recursive: true, force: true });
  }
  return kept;
}
