import { Command, CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../../../src/cli/context.js';
import { registerDaemon } from '../../../src/cli/commands/daemon.js';
import { loadIdentity } from '../../../daimon/identity.js';
import { bucketLayout } from '../../../src/protocol/bucket-layout.js';
import { createObjectSigner } from '../../../src/transport/bucket/signed-object.js';
import { testDeps } from '../../cli/helpers.js';
import { createTestBucket } from '../../support/s3.js';
import type { TestBucket } from '../../support/s3.js';
import { eventually, tempDir } from '../core/helpers.js';
import { answerRegistrations, joinToken } from './fake-answerer.js';
import { envelope, putJob, readOutbox } from './helpers.js';
import type { TestCp } from './helpers.js';
import { createCertificateAuthority } from '../../../src/pki/ca.js';

// `okesu daemon --bucket … --s3-endpoint …` in-process against radosgw: the flags, the AWS SDK's default credential
// chain (this process's AWS_* from createTestBucket), registration through the bucket, and a job run end to end.
let s3: TestBucket;
let cp: TestCp;
beforeAll(async () => {
  s3 = await createTestBucket('daimon-cmd', { prefix: 'fleet' });
  const ca = await createCertificateAuthority({ commonName: 'cmd CA' });
  cp = { ca, signer: createObjectSigner('cp', ca.keyPem), layout: bucketLayout('fleet') };
});
afterAll(() => s3.bucket.close());

const agent = (name: string, script: string): string => `---\nname: ${name}\ncommand: ${JSON.stringify(['node', '-e', script])}\n---\n`;

describe('okesu daemon --transport jobs (radosgw)', () => {
  it('registers through the bucket, polls at --poll, runs a job and writes its events', async () => {
    const state = tempDir('cmd-jobs');
    const { token, secretHash } = joinToken(cp.ca);
    const stop = new AbortController();
    const deps = testDeps({ signal: stop.signal, env: { OKESU_JOIN_TOKEN: token } });
    const program = new Command('okesu');
    registerDaemon(program, createContext(deps));
    for (const cmd of [program, ...program.commands]) cmd.exitOverride().configureOutput({ writeOut: () => undefined, writeErr: (t) => void deps.stderr.write(t) });
    const running = program
      .parseAsync(['daemon', '--log-level', 'silent', '--transport', 'jobs', '--bucket', s3.url, '--s3-endpoint', s3.location.endpoint as string,
        '--s3-region', s3.location.region as string, '--poll', '1s', '--heartbeat-every', '2', '--state', state, '--hostname', 'cmd-jobs-host', '--agents', tempDir('no-agents')], { from: 'user' })
      .then(() => 0, (err: unknown) => (err instanceof CommanderError ? err.exitCode : Promise.reject(err)));
    try {
      await eventually(async () => (await answerRegistrations(s3.bucket, cp.layout, cp.ca, secretHash, 'grant')).answered > 0, 20_000, 'the registration request');
      const identity = await eventually(async () => loadIdentity(state), 20_000, 'the stored identity');
      expect(identity.cp).toBe(s3.url);
      await eventually(async () => (await s3.bucket.get(cp.layout.heartbeat('cmd-jobs-host'), 1 << 20)) !== undefined, 20_000, 'a heartbeat');

      const env = envelope({ agent: 'cmd', definition: agent('cmd', 'console.log(JSON.stringify({type:"text",text:"from the command"}))') });
      await putJob(s3.bucket, cp, 'cmd-jobs-host', env);
      const out = await eventually(async () => {
        const o = await readOutbox(s3.bucket, cp, 'cmd-jobs-host', identity.keyPem);
        return o.exits.length === 1 && o;
      }, 20_000, 'the exit');
      expect(out.exits[0]).toMatchObject({ run_id: env.run_id, status: 'completed' });
      expect(out.records.some((r) => (r.event as { text?: string }).text === 'from the command')).toBe(true);
    } finally {
      stop.abort();
    }
    expect(await running).toBe(0);
    expect(deps.stderr.text()).toBe('');
  });
});
