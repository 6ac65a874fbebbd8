import { isIP } from 'node:net';

/** Where the daimon's metrics endpoint listens (`--metrics-listen HOST:PORT`). */
export interface MetricsListen {
  /** An IP literal (IPv6 without brackets) or `localhost`. */
  host: string;
  /** 0 picks a free port (logged when listening). */
  port: number;
}

/**
 * Parses `HOST:PORT`, `[IPV6]:PORT` or `localhost:PORT`; throws an Error saying what is wrong. Names other than
 * `localhost` are refused: what they resolve to is not what the flag says, and loopback must be checkable here.
 */
export function parseMetricsListen(text: string): MetricsListen {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim());
  if (!m) throw new Error(`expected HOST:PORT or [IPV6]:PORT (e.g. 127.0.0.1:9464), got ${JSON.stringify(text)}`);
  const host = (m[1] ?? m[2] ?? '').toLowerCase();
  const port = Number(m[3]);
  if (port > 65_535) throw new Error(`port ${port} is out of range (0–65535)`);
  if (m[1] !== undefined && isIP(host) !== 6) throw new Error(`${JSON.stringify(m[1])} in brackets is not an IPv6 address`);
  if (m[2] !== undefined && host !== 'localhost' && isIP(host) !== 4) {
    throw new Error(`${JSON.stringify(m[2])} is not an IPv4 address or localhost (write IPv6 as [::1]:PORT)`);
  }
  return { host, port };
}

/** True for `localhost`, 127.0.0.0/8 and ::1 (also as ::ffff:127.x.y.z): reachable from this host only. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1' || /^0{0,4}(:0{0,4}){6}:0{0,3}1$/.test(h)) return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/** The address as a URL's host part: IPv6 in brackets. */
export function formatListen(listen: MetricsListen): string {
  return `${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${listen.port}`;
}
