import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDaimon, type Daimon } from '../../daimon/daimon.js';
import { captureLogger, tempDir } from '../daimon/core/helpers.js';
import { hello, startCp, waitFor, type CpHarness } from './cp-harness.js';

let h: CpHarness;
let daimon: Daimon | undefined;
beforeEach(async () => {
  h = await startCp();
});
afterEach(async () => {
  await daimon?.stop();
  await h.close();
});

const labelsOf = async (hostname: string): Promise<Record<string, string> | undefined> => (await h.admin.hosts()).find((x) => x.hostname === hostname)?.labels;

describe('host labels across a daimon restart', () => {
  it('a hello replaces the daimon’s own labels: one dropped from its --label flags goes, operator labels stay', async () => {
    const state = tempDir('labels-state');
    const { token } = await h.admin.createToken({ kind: 'join', uses: 1 });
    const start = async (labels: Record<string, string>, withToken: boolean): Promise<void> => {
      daimon = createDaimon(
        { stateDir: state, cp: h.url, ...(withToken && { token }), hostname: 'lab-01', builtinAgents: false, labels, version: '1.0.0' },
        { log: captureLogger('warn').log, env: { PATH: process.env.PATH } },
      );
      await daimon.start();
    };

    await start({ a: '1', b: '2' }, true);
    await waitFor(async () => (await labelsOf('lab-01'))?.['b'] === '2', 10_000, 'the first labels');
    // an operator labels the host
    await h.admin.setHostLabels('lab-01', { set: { team: 'blue' } });
    expect(await labelsOf('lab-01')).toEqual({ a: '1', b: '2', team: 'blue' });

    await daimon?.stop();
    await start({ a: '1' }, false);
    await waitFor(async () => {
      const labels = await labelsOf('lab-01');
      return labels && !('b' in labels) ? labels : undefined;
    }, 10_000, 'label b to go');
    expect(await labelsOf('lab-01')).toEqual({ a: '1', team: 'blue' });
  });

  it('an operator’s removal of a daimon label holds across hellos', async () => {
    const web = await h.registerHost('web-01');
    const first = await h.connectHost(web, { hello: false });
    first.send(hello({ labels: { env: 'prod', tier: 'web' } }));
    await waitFor(async () => (await labelsOf('web-01'))?.['tier'] === 'web');
    await h.admin.setHostLabels('web-01', { remove: ['tier'] });
    const again = await h.connectHost(web, { hello: false });
    again.send(hello({ labels: { env: 'staging', tier: 'web' } }));
    await waitFor(async () => (await labelsOf('web-01'))?.['env'] === 'staging');
    expect(await labelsOf('web-01')).toEqual({ env: 'staging' });
  });
});
