import { open, seal, type ClusterKey } from '../cluster/cluster-key.js';
import type { CreateChannelRequest } from '../../protocol/notify-api.js';
import type { ChannelTarget } from './channel-sender.js';

/** A channel's target split in two: what may be shown (`config`, where each secret reads `"set"`) and what is sealed (`secrets`). */
export interface SplitTarget {
  config: Record<string, unknown>;
  secrets: Record<string, string>;
}

/** The target a creation describes, with its secrets apart. */
export function splitTarget(req: CreateChannelRequest): SplitTarget {
  switch (req.kind) {
    case 'webhook':
      return { config: { url: req.url, secret: 'set', ...(req.ca_pem !== undefined && { ca_pem: req.ca_pem }) }, secrets: { secret: req.secret } };
    case 'slack':
      return { config: { webhook_url: 'set' }, secrets: { webhookUrl: req.webhook_url } };
    case 'email':
      return {
        config: { host: req.host, port: req.port, tls: req.tls, from: req.from, to: req.to, ...(req.user !== undefined && { user: req.user }),
          ...(req.password !== undefined && { password: 'set' }), ...(req.ca_pem !== undefined && { caPem: req.ca_pem }) },
        secrets: req.password === undefined ? {} : { password: req.password },
      };
  }
}

/** What `okesu notify list` shows of a target: its settings, secrets already `"set"`, a CA certificate as `"set"` too (it is long). */
export function targetView(config: Record<string, unknown>): Record<string, unknown> {
  const { ca_pem: caA, caPem: caB, ...shown } = config;
  return { ...shown, ...((caA !== undefined || caB !== undefined) && { ca: 'set' }) };
}

/** Seals a channel's secrets; the channel's name is the associated data, so a sealed value moved to another channel does not open. */
export function sealSecrets(key: ClusterKey, channel: string, secrets: Record<string, string>): string {
  return seal(key, JSON.stringify(secrets), aad(channel));
}

/** Opens a channel's secrets (throws OKS_ERR_CLUSTER_KEY under another key). */
export function openSecrets(key: ClusterKey, channel: string, sealed: string): Record<string, string> {
  return JSON.parse(open(key, sealed, aad(channel)).toString('utf8')) as Record<string, string>;
}

/** The full target a sender needs: settings and opened secrets together, in the contract's shape. */
export function targetOf(kind: ChannelTarget['kind'], config: Record<string, unknown>, secrets: Record<string, string>): ChannelTarget {
  switch (kind) {
    case 'webhook':
      return { kind, url: config['url'] as string, secret: secrets['secret'] as string, ...(typeof config['ca_pem'] === 'string' && { caPem: config['ca_pem'] }) };
    case 'slack':
      return { kind, webhookUrl: secrets['webhookUrl'] as string };
    case 'email':
      return {
        kind,
        host: config['host'] as string,
        port: config['port'] as number,
        tls: config['tls'] as 'starttls' | 'implicit' | 'none',
        from: config['from'] as string,
        to: config['to'] as string[],
        ...(typeof config['user'] === 'string' && { user: config['user'] }),
        ...(secrets['password'] !== undefined && { password: secrets['password'] }),
        ...(typeof config['caPem'] === 'string' && { caPem: config['caPem'] }),
      };
  }
}

const aad = (channel: string): string => `notify.channel.${channel}`;
