import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openSecrets, sealSecrets, splitTarget, targetOf, targetView } from '../../../src/cp/notify/channel-secrets.js';
import { notifyKeyFrom } from '../../../src/cp/notify/notify-key.js';
import { createChannelRequestSchema } from '../../../src/protocol/notify-api.js';
import type { ChannelTarget } from '../../../src/cp/notify/channel-sender.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('channel targets and their sealed secrets', () => {
  it.each<[string, unknown, ChannelTarget, Record<string, unknown>]>([
    ['webhook', { kind: 'webhook', name: 'w', url: 'https://x.example/h', secret: 's'.repeat(16), ca_pem: PEM },
      { kind: 'webhook', url: 'https://x.example/h', secret: 's'.repeat(16), caPem: PEM }, { url: 'https://x.example/h', secret: 'set', ca: 'set' }],
    ['slack', { kind: 'slack', name: 's', webhook_url: 'https://hooks.slack.example/T/B/C' },
      { kind: 'slack', webhookUrl: 'https://hooks.slack.example/T/B/C' }, { webhook_url: 'set' }],
    ['email', { kind: 'email', name: 'e', host: 'smtp.example', user: 'u', password: 'p', from: 'a@b.c', to: ['d@e.f'] },
      { kind: 'email', host: 'smtp.example', port: 587, tls: 'starttls', user: 'u', password: 'p', from: 'a@b.c', to: ['d@e.f'] },
      { host: 'smtp.example', port: 587, tls: 'starttls', user: 'u', password: 'set', from: 'a@b.c', to: ['d@e.f'] }],
  ])('%s: the sender gets the contract\'s target; the view shows no secret', (_kind, body, target, view) => {
    const key = notifyKeyFrom(randomBytes(32));
    const req = createChannelRequestSchema.parse(body);
    const { config, secrets } = splitTarget(req);
    const sealed = sealSecrets(key, req.name, secrets);
    expect(targetOf(req.kind, JSON.parse(JSON.stringify(config)) as Record<string, unknown>, openSecrets(key, req.name, sealed))).toEqual(target);
    expect(targetView(config)).toEqual(view);
    // Sealed to the channel's name: moved to another channel, it does not open.
    expect(() => openSecrets(key, `${req.name}2`, sealed)).toThrow(/OKS_ERR_CLUSTER_KEY|cannot open/);
  });
});
