import { readFileSync } from 'node:fs';

/** Machine-wide TCP counters that show a listener falling behind (from /proc/net/netstat, TcpExt). */
export interface TcpCounters {
  /** Connections dropped because a listen socket's accept queue was full. */
  listenOverflows: number;
  /** SYNs sent again by clients that got no answer (e.g. after such a drop: 1 s, then 2 s, 4 s …). */
  synRetrans: number;
}

/** Reads the counters now; zeros where /proc/net/netstat is missing (not Linux). */
export function readTcpCounters(): TcpCounters {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
    const keys = (lines[0] ?? '').split(/\s+/);
    const values = (lines[1] ?? '').split(/\s+/).map(Number);
    const get = (name: string): number => values[keys.indexOf(name)] ?? 0;
    return { listenOverflows: get('ListenOverflows'), synRetrans: get('TCPSynRetrans') };
  } catch {
    return { listenOverflows: 0, synRetrans: 0 };
  }
}

/** What happened between two readings. */
export function tcpDelta(from: TcpCounters, to: TcpCounters): TcpCounters {
  return { listenOverflows: to.listenOverflows - from.listenOverflows, synRetrans: to.synRetrans - from.synRetrans };
}
