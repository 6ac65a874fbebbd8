import { it, expect } from 'vitest';
import { startCp } from './cp-harness.js';
it('stop with open tunnel + stream', async () => {
  const h = await startCp();
  const id = await h.registerHost('web-01');
  const t = await h.connectHost(id);
  const s = await h.openStream();
  expect(s.ok).toBe(true);
  const t0 = Date.now();
  await h.cp.stop();
  console.log('stopped in', Date.now() - t0, t.closeInfo);
  await t.closed;
  console.log(t.frames);
});
