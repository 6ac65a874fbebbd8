import { isIP } from 'node:net';

/**
 * Whether `host` (a hostname, an IP address, or a URL's `hostname` with IPv6 brackets) names this machine's loopback
 * interface: `localhost`, 127.0.0.0/8 or ::1. The senders allow cleartext (http, SMTP without TLS) only there.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}
