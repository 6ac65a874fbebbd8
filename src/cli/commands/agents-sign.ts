import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { OkesuError } from '../../errors.js';
import { generateAgentKey, readAgentPrivateKey, signDefinition, verifyDefinition } from '../../pki/agent-signature.js';
import type { AgentKey } from '../../pki/agent-signature.js';
import { agentKeyError } from '../../specs/agent-key.js';
import { writeFileAtomic } from '../../files/atomic-write.js';
import { action } from '../context.js';
import type { CliContext } from '../context.js';

const collect = (v: string, p: string[]): string[] => [...p, v];

/** Reads a text file that must be UTF-8 as it is: a signature covers the bytes the CP will send, not a repaired copy. */
function readUtf8(file: string): string {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (err) {
    throw new OkesuError('OKS_ERR_CONFIG', `cannot read ${file}: ${(err as Error).message}`);
  }
  const text = raw.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(raw)) throw new OkesuError('OKS_ERR_CONFIG', `${file} is not valid UTF-8`);
  return text;
}

/** A public key from the command line: `ed25519:…`, or a file holding one (a `.pub` that keygen wrote). */
function readPublicKey(arg: string): AgentKey {
  if (arg.startsWith('ed25519:')) {
    const problem = agentKeyError(arg);
    if (problem) throw new OkesuError('OKS_ERR_CONFIG', `--key ${arg}: ${problem}`);
    return { key: arg };
  }
  const text = readUtf8(arg).trim().split(/\s+/)[0] ?? '';
  const problem = agentKeyError(text);
  if (problem) throw new OkesuError('OKS_ERR_CONFIG', `${arg}: ${problem}`);
  return { key: text, name: basename(arg) };
}

/** Writes `data` to a new file only (never over an existing one) with `mode`. */
function writeNew(path: string, data: string, mode: number): void {
  let fd: number;
  try {
    fd = openSync(path, 'wx', mode);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new OkesuError('OKS_ERR_CONFIG', code === 'EEXIST' ? `${path} exists; not overwriting a key` : `cannot write ${path}: ${(err as Error).message}`);
  }
  try {
    writeSync(fd, data);
  } finally {
    closeSync(fd);
  }
}

/** Registers `okesu agents keygen | sign | verify` (SPEC §11): signing keys and signatures of agent definitions. */
export function registerAgentSigning(agents: Command, ctx: CliContext): void {
  agents
    .command('keygen')
    .description('create an ed25519 key for signing agent definitions; prints the public key in the host policy’s form')
    .requiredOption('--out <file>', 'where to write the private key (mode 0600; FILE.pub gets the public key)')
    .option('--json', 'print the public key and file names as JSON')
    .action(
      action(ctx, (opts: { out: string; json?: boolean }) => {
        const { privateKeyPem, publicKey } = generateAgentKey();
        writeNew(opts.out, privateKeyPem, 0o600);
        writeNew(`${opts.out}.pub`, `${publicKey}\n`, 0o644);
        if (opts.json) return ctx.out.printJson({ public_key: publicKey, private_key_file: opts.out, public_key_file: `${opts.out}.pub` });
        ctx.out.printLine(publicKey);
        ctx.out.status(`private key: ${opts.out} (0600, keep it off the hosts); to trust it, add to /etc/okesu/policy.yaml:`);
        ctx.out.status(`  cp_definitions: signed\n  trusted_agent_keys:\n    - { key: "${publicKey}", name: ${basename(opts.out)} }`);
      }),
    );

  agents
    .command('sign <file>')
    .description('sign an agent file in place: appends (or replaces) this key’s signature line, over the exact text above it')
    .requiredOption('--key <file>', 'the private key (okesu agents keygen --out)')
    .option('--json', 'print the result as JSON')
    .action(
      action(ctx, async (file: string, opts: { key: string; json?: boolean }) => {
        let key;
        try {
          key = readAgentPrivateKey(readFileSync(opts.key, 'utf8'));
        } catch (err) {
          throw new OkesuError('OKS_ERR_CONFIG', `--key ${opts.key}: ${(err as Error).message}`);
        }
        const text = readUtf8(file);
        const { parseAgent, formatSpecError } = await import('../../specs/parse-agent.js');
        const parsed = parseAgent(text, file);
        if (!parsed.ok) throw new OkesuError('OKS_ERR_AGENT_INVALID', `not signing an invalid agent file:\n${parsed.errors.map(formatSpecError).join('\n')}`);
        const signed = signDefinition(text, key);
        writeFileAtomic(file, signed.text, statSync(file).mode & 0o777);
        if (opts.json) return ctx.out.printJson({ file, agent: parsed.agent.name, key: signed.key });
        ctx.out.printLine(`${file}: ${parsed.agent.name} signed by ${signed.key}`);
      }),
    );

  agents
    .command('verify <file>')
    .description('check that an agent file is signed by one of the given public keys over its exact content; exits 1 if not')
    .requiredOption('--key <key>', 'a trusted public key (ed25519:…) or a file holding one (repeatable)', collect, [])
    .option('--json', 'print the result as JSON')
    .action(
      action(ctx, (file: string, opts: { key: string[]; json?: boolean }) => {
        const result = verifyDefinition(readUtf8(file), opts.key.map(readPublicKey));
        if (!result.ok) throw new OkesuError('OKS_ERR_SIGNATURE_INVALID', `${file}: ${result.message}`);
        if (opts.json) return ctx.out.printJson({ file, ok: true, key: result.key.key });
        ctx.out.printLine(`${file}: ok, signed by ${result.key.name ?? result.key.key}`);
      }),
    );
}
