import { heartbeatBodySchema } from '../../protocol/bucket-objects.js';
import { describeIssues } from '../../protocol/event.js';
import type { BucketEntry } from '../../transport/bucket/bucket.js';
import type { HostTransport } from '../store/hosts.js';
import type { HostKeys } from './host-keys.js';
import { forEachPage, inTurns, readHostObject, type ScanContext } from './scan-context.js';

/** What a heartbeat scan tells liveness. */
export interface HeartbeatSink {
  heard(hostname: string, h: { seq?: number; running?: number; spoolDepth?: number; at?: number }): void;
  setTransport(hostname: string, t: HostTransport): void;
}

/** The heartbeat part of a scan pass. */
export interface HeartbeatScan {
  /** One pass over `hb/`; returns how many heartbeats were read. */
  scan(ctx: ScanContext): Promise<number>;
}

/**
 * Reads `hb/`: one small object per host that uses the bucket, overwritten at each heartbeat. Only entries whose ETag
 * changed since the last scan are fetched. A heartbeat counts when it verifies as its host's and was issued after the
 * last one accepted from that host; an older one (a replay of an earlier object) is ignored without a word. The first
 * heartbeat of a host after a CP start counts from the time it was issued, so a host that died while the CP was down
 * does not look alive.
 */
export function createHeartbeatScan(deps: {
  hostKeys: HostKeys;
  liveness: HeartbeatSink;
  /** A host's heartbeats name another version than its last ones did (or the first after a CP start): an upgrade shows. */
  onVersion?: (hostname: string, version: string) => void;
}): HeartbeatScan {
  const etags = new Map<string, string>();
  const lastIssued = new Map<string, number>();
  const versions = new Map<string, string>();

  const accept = async (ctx: ScanContext, entry: BucketEntry): Promise<boolean> => {
    const read = await readHostObject(ctx, entry, deps.hostKeys, ['heartbeat'] as const, 'hb/<host>');
    if (!read) return false;
    const { host } = read;
    const now = ctx.now();
    const body = read.object.lines.length === 1 ? heartbeatBodySchema.safeParse(read.object.lines[0]) : undefined;
    if (!body?.success) {
      await ctx.quarantine.move(entry.key, 'bad_body', body ? `bad heartbeat: ${describeIssues(body.error)}` : 'a heartbeat has one body line', entry.size);
      return false;
    }
    const issued = read.object.header.issued_at;
    const previous = lastIssued.get(host);
    if (previous !== undefined && issued <= previous) return true;
    lastIssued.set(host, issued);
    const hb = body.data;
    deps.liveness.heard(host, { seq: hb.seq, running: hb.running.length, spoolDepth: hb.spool_depth, at: previous === undefined ? issued : now });
    deps.liveness.setTransport(host, { transport: hb.mode, pollMs: hb.poll_ms, intervalMs: hb.interval_ms });
    if (versions.get(host) !== hb.version) {
      versions.set(host, hb.version);
      deps.onVersion?.(host, hb.version);
    }
    return true;
  };

  return {
    async scan(ctx) {
      const seen = new Set<string>();
      let read = 0;
      await forEachPage(ctx, ctx.layout.heartbeats(), async (entries) => {
        const changed = entries.filter((e) => {
          seen.add(e.key);
          return etags.get(e.key) !== e.etag;
        });
        read += changed.length;
        await inTurns(changed, 16, async (entry) => {
          if (await accept(ctx, entry)) etags.set(entry.key, entry.etag);
          else etags.delete(entry.key);
        });
      });
      for (const key of etags.keys()) if (!seen.has(key)) etags.delete(key);
      return read;
    },
  };
}
