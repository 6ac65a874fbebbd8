import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { channelViewSchema, deliveryViewSchema } from '../../src/protocol/notify-api.js';
import { startCp, type CpHarness } from '../cp/cp-harness.js';
import { WebhookReceiver } from '../cp/notify/webhook-receiver.js';
import { testDeps } from './helpers.js';

const SECRET = 'cli-secret-0123456789abcdef';

describe('okesu notify against a CP and a webhook receiver on loopback', () => {
  let h: CpHarness;
  let rx: WebhookReceiver;
  const dir = mkdtempSync(join(tmpdir(), 'okesu-notify-cli-'));
  beforeAll(async () => {
    rx = new WebhookReceiver(SECRET);
    await rx.start();
    h = await startCp();
  });
  afterAll(async () => {
    await h.close();
    await rx.stop();
  });

  const okesu = async (argv: string[], env: Record<string, string> = {}) => {
    const deps = testDeps({ env: { OKESU_CONFIG: join(h.stateDir, 'admin.yaml'), ...env }, now: Date.now });
    const code = await runCli(argv, deps);
    return { code, stdout: deps.stdout.text(), stderr: deps.stderr.text() };
  };

  it('adds a webhook with its secret from a file, lists it without the secret, tests it, shows the log, removes it', async () => {
    const file = join(dir, 'secret');
    writeFileSync(file, `${SECRET}\n`, { mode: 0o600 });
    const add = await okesu(['notify', 'add', 'webhook', 'ops', '--url', rx.url, '--secret-file', file, '--min-severity', 'medium', '--label', 'env=prod*', '--quiet', '22:00-07:00', '--quiet-tz', 'Europe/Paris']);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toBe('added webhook channel ops\n');

    const list = await okesu(['notify', 'list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).not.toContain(SECRET);
    const [ops] = channelViewSchema.array().parse(JSON.parse(list.stdout));
    expect(ops).toMatchObject({ name: 'ops', target: { url: rx.url, secret: 'set' }, rules: { min_severity: 'MEDIUM', labels: { env: 'prod*' }, quiet: { start: '22:00', end: '07:00', tz: 'Europe/Paris' } } });
    const table = await okesu(['notify', 'list']);
    expect(table.stdout).toMatch(/^NAME\s+KIND\s+TARGET\s+MIN\s+QUIET\s+PENDING\s+DELIVERED\s+FAILED\n/);

    const test = await okesu(['notify', 'test', 'ops']);
    expect(test.code, test.stderr).toBe(0);
    expect(test.stdout).toMatch(/^delivered ops dl_[0-9a-f]+ in \d+ ms: HTTP 200\n$/);
    expect(rx.delivered()).toHaveLength(1);

    const log = await okesu(['notify', 'deliveries', 'ops', '--json']);
    expect(deliveryViewSchema.array().parse(JSON.parse(log.stdout))).toEqual([expect.objectContaining({ kind: 'test', state: 'delivered' })]);

    rx.script = [500];
    const failed = await okesu(['notify', 'test', 'ops']);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/^failed ops dl_[0-9a-f]+ in \d+ ms: HTTP 500\n$/);

    expect((await okesu(['notify', 'rm', 'ops'])).stdout).toBe('removed channel ops\n');
    expect((await okesu(['notify', 'rm', 'ops'])).code).toBe(1);
  });

  it('takes the secret from the default environment variable, and refuses a channel without one', async () => {
    const ok = await okesu(['notify', 'add', 'webhook', 'env-one', '--url', rx.url], { OKESU_NOTIFY_SECRET: SECRET });
    expect(ok.code, ok.stderr).toBe(0);
    const none = await okesu(['notify', 'add', 'webhook', 'none', '--url', rx.url]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('a signing secret is needed');
    const badQuiet = await okesu(['notify', 'add', 'webhook', 'q', '--url', rx.url, '--quiet', '22-07'], { OKESU_NOTIFY_SECRET: SECRET });
    expect(badQuiet.code).toBe(2);
  });

  it('stores Slack and email targets per the sender contract, secrets never shown', async () => {
    const slack = await okesu(['notify', 'add', 'slack', 'chat', '--webhook-url-env', 'HOOK'], { HOOK: 'https://hooks.slack.example/services/T/B/XYZ' });
    expect(slack.code, slack.stderr).toBe(0);
    const mail = await okesu(['notify', 'add', 'email', 'mail', '--smtp-host', '127.0.0.1', '--smtp-port', '2525', '--tls', 'none', '--user', 'u', '--from', 'okesu@example.org', '--to', 'a@example.org', '--to', 'b@example.org'], { OKESU_SMTP_PASSWORD: 'pw-123' });
    expect(mail.code, mail.stderr).toBe(0);
    const list = await okesu(['notify', 'list', '--json']);
    expect(list.stdout).not.toContain('XYZ');
    expect(list.stdout).not.toContain('pw-123');
    const views = channelViewSchema.array().parse(JSON.parse(list.stdout));
    expect(views.find((v) => v.name === 'chat')?.target).toEqual({ webhook_url: 'set' });
    expect(views.find((v) => v.name === 'mail')?.target).toEqual({ host: '127.0.0.1', port: 2525, tls: 'none', from: 'okesu@example.org', to: ['a@example.org', 'b@example.org'], user: 'u', password: 'set' });
  });
});
