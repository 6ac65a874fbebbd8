import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { TOKEN, finding, testDeps, testPki } from './helpers.js';
import { FakeStreamServer, findingMsg, send } from './fake-stream-server.js';

describe('okesu tail against a live stream', () => {
  let server: FakeStreamServer;
  let configFile: string;
  const findingsQueries: URL[] = [];

  beforeAll(async () => {
    const pki = await testPki();
    server = new FakeStreamServer(pki, (req, res) => {
      findingsQueries.push(new URL(req.url ?? '/', 'https://127.0.0.1'));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ findings: [finding({ id: 1 }), finding({ id: 2 })], cursor: 2 }));
    });
    server.scripts = [
      (ws) => {
        send(ws, { type: 'ready', cursor: 2 });
        send(ws, findingMsg(3));
        send(ws, findingMsg(4, { severity: 'LOW' })); // the server should have filtered it; the client guards anyway
        ws.send(JSON.stringify(findingMsg(5)), () => ws.terminate());
      },
      (ws) => {
        send(ws, { type: 'ready', cursor: 5 });
        send(ws, findingMsg(6));
      },
    ];
    await server.listen();
    const dir = mkdtempSync(join(tmpdir(), 'okesu-tail-'));
    configFile = join(dir, 'admin.yaml');
    writeFileSync(configFile, JSON.stringify({ cp: `https://127.0.0.1:${server.port}`, ca: pki.ca, token: TOKEN }));
  });

  afterAll(() => server.stop());

  it('replays --since, hands over to the stream at the cursor and resumes across a drop without loss or repeats', async () => {
    const stop = new AbortController();
    const deps = testDeps({ env: {}, signal: stop.signal });
    const done = runCli(['tail', '--since', '1h', '--severity', 'medium', '--json', '--config', configFile], deps);
    const ids = (): number[] => deps.stdout.lines().map((l) => (JSON.parse(l) as { id: number }).id);
    await vi.waitFor(() => expect(ids()).toContain(6), { timeout: 10_000 });
    stop.abort();

    expect(await done).toBe(0);
    expect(ids()).toEqual([1, 2, 3, 5, 6]);
    expect(findingsQueries[0]?.searchParams.get('severity')).toBe('MEDIUM');
    expect(server.upgrades.map((u) => u.searchParams.get('after'))).toEqual(['2', '5']);
    expect(server.upgrades[0]?.searchParams.get('severity')).toBe('MEDIUM');
    expect(deps.stderr.text()).toContain('stream lost');
    expect(deps.stderr.text()).toContain('stream reconnected');
  });
});
