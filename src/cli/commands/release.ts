import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { OkesuError } from '../../errors.js';
import { describeIssues } from '../../protocol/event.js';
import { RELEASE_PLATFORM, releaseManifestSchema, signedReleaseSchema, versionSchema, type ReleaseManifest, type ReleaseView, type SignedRelease } from '../../protocol/release.js';
import { generateReleaseKey, signRelease } from '../../release/release-signing.js';
import { artifactDigest } from '../../release/artifact-digest.js';
import { formatUtcSeconds } from '../format.js';
import { action, usageError, type CliContext } from '../context.js';
import { configOption, outputFormat, outputOption } from '../options.js';
import type { Column, OutputFormat } from '../output.js';
import { createReleaseClient } from './release-client.js';

interface SignOptions {
  version?: string;
  key?: string;
  platform: string;
}

/** Table columns of `okesu release list`. */
export const releaseColumns: Column<ReleaseView>[] = [
  { header: 'VERSION', value: (r) => r.version },
  { header: 'PLATFORM', value: (r) => r.platform },
  { header: 'SIZE', value: (r) => formatSize(r.size), align: 'right' },
  { header: 'SHA256', value: (r) => r.sha256.slice(0, 16) },
  { header: 'KEY', value: (r) => r.key_id },
  { header: 'UPLOADED', value: (r) => formatUtcSeconds(r.uploaded_at) },
  { header: 'BY', value: (r) => r.uploaded_by, max: 24 },
];

/** Bytes as `87.3 MB` (decimal units, one decimal). */
export function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

function checkedVersion(cmd: Command, version: string | undefined): string {
  if (version === undefined) usageError(cmd, '--version is required with --key');
  const ok = versionSchema.safeParse(version);
  if (!ok.success) usageError(cmd, `--version: ${describeIssues(ok.error)}`);
  return ok.data;
}

/** Hashes the artifact and signs its manifest with the private key in `keyFile`. */
async function signArtifact(ctx: CliContext, artifact: string, keyFile: string, version: string, platform: string): Promise<SignedRelease> {
  let pem: string;
  try {
    pem = readFileSync(keyFile, 'utf8');
    if ((statSync(keyFile).mode & 0o077) !== 0) ctx.out.status(`warning: the release key ${keyFile} is readable by others (chmod 600 it)`);
  } catch (err) {
    throw new OkesuError('OKS_ERR_RELEASE_KEY', `cannot read ${keyFile}: ${(err as Error).message}`);
  }
  const { sha256, size } = await digest(artifact);
  return signRelease(pem, { version, platform, sha256, size });
}

async function digest(artifact: string): Promise<{ sha256: string; size: number }> {
  try {
    return await artifactDigest(artifact);
  } catch (err) {
    throw new OkesuError('OKS_ERR_CONFIG', `cannot read the artifact ${artifact}: ${(err as Error).message}`);
  }
}

/** Reads a `release.json` written by `okesu release sign` and its manifest (the signature is the CP's to check). */
function readSigned(file: string): { signed: SignedRelease; manifest: ReleaseManifest } {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new OkesuError('OKS_ERR_RELEASE_INVALID', `${file}: ${(err as Error).message}`);
  }
  const signed = signedReleaseSchema.safeParse(json);
  if (!signed.success) throw new OkesuError('OKS_ERR_RELEASE_INVALID', `${file}: ${describeIssues(signed.error)}`);
  let manifest: unknown;
  try {
    manifest = JSON.parse(signed.data.manifest);
  } catch {
    throw new OkesuError('OKS_ERR_RELEASE_INVALID', `${file}: the manifest is not JSON`);
  }
  const parsed = releaseManifestSchema.safeParse(manifest);
  if (!parsed.success) throw new OkesuError('OKS_ERR_RELEASE_INVALID', `${file}: manifest: ${describeIssues(parsed.error)}`);
  return { signed: signed.data, manifest: parsed.data };
}

/** Registers `okesu release keygen|sign|add|list`. */
export function registerRelease(program: Command, ctx: CliContext): void {
  const release = program.command('release').description('signed releases of the okesu executable that hosts upgrade to');

  release
    .command('keygen')
    .description('create an ed25519 release key: the private key goes to --out (0600; keep it offline), the public key is printed for cp serve --release-key')
    .requiredOption('--out <file>', 'where to write the private key (PKCS#8 PEM); an existing file is never overwritten')
    .action(
      action(ctx, (opts: { out: string }) => {
        const key = generateReleaseKey();
        try {
          writeFileSync(opts.out, key.privateKeyPem, { flag: 'wx', mode: 0o600 });
        } catch (err) {
          const exists = (err as NodeJS.ErrnoException).code === 'EEXIST';
          throw new OkesuError('OKS_ERR_RELEASE_KEY', exists ? `${opts.out} exists; refusing to overwrite a key` : `cannot write ${opts.out}: ${(err as Error).message}`);
        }
        ctx.out.printLine(key.publicKey);
        ctx.out.status(`key id ${key.keyId}; private key written to ${opts.out} (0600): keep it offline, give the CP the public key (cp serve --release-key)`);
      }),
    );

  const sign = new Command('sign')
    .description('sign an artifact without uploading it (for a release key kept on an offline machine); upload with release add --signed')
    .argument('<artifact>', 'the executable to release')
    .option('--version <version>', 'its version, MAJOR.MINOR.PATCH[-PRERELEASE]')
    .requiredOption('--key <file>', 'the release private key (from release keygen)')
    .option('--platform <platform>', 'platform of the artifact', RELEASE_PLATFORM)
    .requiredOption('--out <file>', 'where to write the signed release (release.json)');
  sign.action(
    action(ctx, async (artifact: string, opts: SignOptions & { key: string; out: string }) => {
      const signed = await signArtifact(ctx, artifact, opts.key, checkedVersion(sign, opts.version), opts.platform);
      writeFileSync(opts.out, `${JSON.stringify(signed, null, 2)}\n`);
      ctx.out.status(`signed ${artifact} as ${opts.version} with key ${signed.key_id}: ${opts.out}`);
    }),
  );
  release.addCommand(sign);

  const add = new Command('add')
    .description('sign (with --key) or take a signed release (--signed) and upload the artifact to the CP (admin)')
    .argument('<artifact>', 'the executable to release')
    .option('--version <version>', 'its version, MAJOR.MINOR.PATCH[-PRERELEASE] (with --key; checked against --signed)')
    .option('--key <file>', 'the release private key: sign here')
    .option('--signed <file>', 'a signed release from release sign (signed elsewhere)')
    .option('--platform <platform>', 'platform of the artifact (with --key)', RELEASE_PLATFORM)
    .option('--json', 'print the stored ReleaseView as JSON')
    .addOption(configOption());
  add.action(
    action(ctx, async (artifact: string, opts: SignOptions & { signed?: string; json?: boolean; config?: string }) => {
      if ((opts.key === undefined) === (opts.signed === undefined)) usageError(add, 'pass exactly one of --key <file> and --signed <file>');
      let signed: SignedRelease;
      let size: number;
      if (opts.key !== undefined) {
        signed = await signArtifact(ctx, artifact, opts.key, checkedVersion(add, opts.version), opts.platform);
        size = (JSON.parse(signed.manifest) as ReleaseManifest).size;
      } else {
        const read = readSigned(opts.signed as string);
        if (opts.version !== undefined && opts.version !== read.manifest.version) usageError(add, `--version ${opts.version}, but ${opts.signed} signs ${read.manifest.version}`);
        // Checked before sending ~90 MB the CP would refuse.
        const local = await digest(artifact);
        if (local.sha256 !== read.manifest.sha256 || local.size !== read.manifest.size) {
          throw new OkesuError('OKS_ERR_RELEASE_MISMATCH', `${artifact} (${local.size} bytes, sha256 ${local.sha256.slice(0, 16)}…) is not the artifact ${opts.signed} signs (${read.manifest.size} bytes, sha256 ${read.manifest.sha256.slice(0, 16)}…)`);
        }
        ({ signed } = read);
        size = local.size;
      }
      const { config } = ctx.connect(opts.config);
      const started = Date.now();
      const view = await createReleaseClient(config).upload(artifact, size, signed);
      if (opts.json) ctx.out.printJson(view);
      else ctx.out.printLine(`release ${view.version} stored: ${formatSize(view.size)}, sha256 ${view.sha256.slice(0, 16)}…, key ${view.key_id} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    }),
  );
  release.addCommand(add);

  release
    .command('list')
    .description('the releases the CP keeps, newest version first')
    .option('--json', 'print the ReleaseView array as JSON')
    .addOption(outputOption())
    .addOption(configOption())
    .action(
      action(ctx, async (opts: { json?: boolean; output?: OutputFormat; config?: string }) => {
        const releases = await createReleaseClient(ctx.connect(opts.config).config).list();
        ctx.out.printList(outputFormat(opts), releases, releaseColumns, { empty: 'no releases (okesu release add ARTIFACT --version V --key FILE)' });
      }),
    );
}
