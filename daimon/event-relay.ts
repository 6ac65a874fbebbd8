import type { EventBody } from '../src/protocol/event.js';
import { LIMITS } from '../src/protocol/limits.js';
import type { EventRecord } from '../src/protocol/tunnel.js';
import type { EmitEvent, Logger } from './provider.js';
import type { Spool } from './spool/spool.js';

/** Who a run's events belong to. */
export interface RunStamp {
  runId: string;
  agent: string;
  agentVersion: string;
}

/** One run's path into the spool. */
export interface RunChannel {
  readonly runId: string;
  /** Stamps, numbers and spools one event. Resolves at once while few appends are pending, else when they are
   *  durable (the backpressure path); a `run_end` resolves only once it and everything before it is durable. */
  emit: EmitEvent;
  /** Resolves once every event emitted so far is durable. */
  flush(): Promise<void>;
  /** Stops counting this run as open (no more broadcasts). */
  close(): void;
}

/** Stamps run events, assigns their sequence numbers and makes them durable. */
export interface EventRelay {
  /** Opens a run's channel; its sequence starts at `firstSeq` (default 1); `broadcasts: false` keeps broadcasts out of it. */
  open(run: RunStamp, opts?: { firstSeq?: number; broadcasts?: boolean }): RunChannel;
  /** Sends an event into every open run (e.g. `spool_full`); failures are logged, never thrown. */
  broadcast(body: EventBody): void;
  /** Run ids with an open channel that takes broadcasts. */
  openRuns(): string[];
}

const TYPE_RE = /^[a-z][a-z0-9_]{0,63}$/;
const STAMP_KEYS = new Set(['type', 'ts', 'host', 'agent', 'agent_version', 'run_id', 'seq']);

/** The stamped event: the body plus ts (kept when the body has a numeric one), host, agent, agent version, run and seq. */
export function stampEvent(body: EventBody, stamp: RunStamp & { host: string; seq: number; now: number }): Record<string, unknown> {
  const ts = typeof body.ts === 'number' && Number.isFinite(body.ts) ? body.ts : stamp.now;
  const type = TYPE_RE.test(body.type) ? body.type : 'error';
  // Same keys in the same order as `{ ...body, ...notes, type, ts, host, … }`, ~4× cheaper: V8 gives a spread's copy
  // no room for more keys, and this was 8 % of the daimon's CPU at 10,000 findings/s. A body with an own `__proto__`
  // key (JSON.parse makes one) is spread, which defines it as data, where Object.assign would set the prototype.
  const event: Record<string, unknown> = Object.hasOwn(body, '__proto__') ? { ...body } : Object.assign({}, body);
  if (type !== body.type) {
    event.message = 'event with an invalid type';
    event.original_type = String(body.type).slice(0, 256);
  }
  if (body.ts !== undefined && ts !== body.ts) event.ts_raw = body.ts;
  event.type = type;
  event.ts = ts;
  event.host = stamp.host;
  event.agent = stamp.agent;
  event.agent_version = stamp.agentVersion;
  event.run_id = stamp.runId;
  event.seq = stamp.seq;
  return event;
}

const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

interface Leaf {
  holder: Record<string, unknown> | unknown[];
  key: string | number;
  value: string;
}

/** The longest string anywhere in `value`, skipping the stamp fields at the top level. */
function longestString(root: Record<string, unknown>): Leaf | undefined {
  let best: Leaf | undefined;
  const visit = (holder: Record<string, unknown> | unknown[], key: string | number, value: unknown): void => {
    if (typeof value === 'string') {
      if (!best || value.length > best.value.length) best = { holder, key, value };
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => visit(value, i, v));
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) visit(value as Record<string, unknown>, k, v);
    }
  };
  for (const [k, v] of Object.entries(root)) if (!STAMP_KEYS.has(k)) visit(root, k, v);
  return best;
}

/**
 * Cuts an event to at most `maxBytes` serialised: the longest strings are shortened first (ending in `…`) and the
 * event is marked `truncated: true`; if that is not enough, only the stamp fields and a note remain.
 */
export function fitEvent(event: Record<string, unknown>, maxBytes: number = LIMITS.eventBytes): Record<string, unknown> {
  let size = jsonBytes(event);
  if (size <= maxBytes) return event;
  const originalBytes = size;
  const copy = structuredClone(event);
  copy.truncated = true;
  size = jsonBytes(copy);
  for (let round = 0; round < 16 && size > maxBytes; round++) {
    const leaf = longestString(copy);
    if (!leaf || leaf.value.length < 16) break;
    const leafBytes = jsonBytes(leaf.value);
    const ratio = Math.max(0, (leafBytes - (size - maxBytes) - 64) / leafBytes);
    let cut = leaf.value.slice(0, Math.floor(leaf.value.length * ratio));
    if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
    (leaf.holder as Record<string | number, unknown>)[leaf.key] = `${cut}…`;
    size = jsonBytes(copy);
  }
  if (size <= maxBytes) return copy;
  const stamps = Object.fromEntries(Object.entries(event).filter(([k]) => STAMP_KEYS.has(k)));
  return { ...stamps, truncated: true, original_bytes: originalBytes, note: `event of ${originalBytes} bytes exceeded ${maxBytes} and its fields were dropped` };
}

// Most appends of one run that may be waiting for their fsync at once.
const APPEND_WINDOW = 256;

/**
 * Creates the relay: every event from a run is stamped (host, agent, version, run, seq from 1 per run), scrubbed of
 * the secrets the daimon holds (`redact`, SPEC §11), cut to the event size limit, appended to the spool (pipelined
 * within a window; a full spool pauses the run) and then `onAppended` runs so the sender can ship it. Redaction comes
 * before the cut: cutting first could leave half a secret, which no exact match would find.
 */
export function createEventRelay(deps: {
  spool: Spool;
  hostname: string;
  onAppended: () => void;
  log: Logger;
  now?: () => number;
  /** Replaces the secrets the daimon holds anywhere in a stamped event (default: none). */
  redact?: <T>(event: T) => T;
  /**
   * False when a record's JSON surely holds nothing `redact` would replace (the redactor's `mayChange`), so the
   * event need not be walked; without it every event is redacted.
   */
  mayNeedRedaction?: (json: string) => boolean;
}): EventRelay {
  const redact = deps.redact;
  const mayNeedRedaction = deps.mayNeedRedaction ?? ((): boolean => true);
  const now = deps.now ?? Date.now;
  const open = new Map<string, RunChannel>();

  return {
    open(run, opts = {}) {
      let next = opts.firstSeq ?? 1;
      // One stamp per run, its seq and time set for each event (stampEvent keeps nothing of it).
      const stamp = { ...run, host: deps.hostname, seq: 0, now: 0 };
      // The spool settles appends in the order they were made, so the last one settling means all before it have:
      // a count and the last append stand for the whole window (a list of promises cost three more per event).
      let inFlight = 0;
      let last: Promise<void> = Promise.resolve();
      let failure: Error | undefined;
      const channel: RunChannel = {
        runId: run.runId,
        async emit(body) {
          if (failure) throw failure;
          const seq = next++;
          stamp.seq = seq;
          stamp.now = now();
          let stamped = stampEvent(body, stamp);
          let record = { run_id: run.runId, seq, event: stamped } as EventRecord;
          let line = JSON.stringify(record);
          // Redaction walks every string of the event (~5 % of the daimon's CPU at 10,000 findings/s); the JSON already
          // made shows at a glance when no secret can be in it. `redact` returns the event itself when nothing changed.
          if (redact && mayNeedRedaction(line)) {
            const redacted = redact(stamped);
            if (redacted !== stamped) {
              stamped = redacted;
              record = { run_id: run.runId, seq, event: stamped } as EventRecord;
              line = JSON.stringify(record);
            }
          }
          // The record's line is longer than its event, so when the line fits the event does, and this one
          // serialisation is also the spool's (the size check used to be a second JSON.stringify of every event).
          if (line.length > LIMITS.eventBytes / 3 && Buffer.byteLength(line) > LIMITS.eventBytes) {
            record = { run_id: run.runId, seq, event: fitEvent(stamped) } as EventRecord;
            line = JSON.stringify(record);
          }
          // Appends are pipelined: the spool group-commits them in order, so a run writing thousands of events
          // pays one fsync per batch, not per event. The sender only ever sends what is durable.
          inFlight++;
          const append = deps.spool.append([record], [line]).then(
            () => {
              inFlight--;
              deps.onAppended();
            },
            (err: unknown) => {
              inFlight--;
              failure ??= err instanceof Error ? err : new Error(String(err));
            },
          );
          last = append;
          // Backpressure: past the window (or on a full spool, whose appends wait), the run's output stops being read.
          // run_end waits for everything before it, so a run's end is never durable ahead of its events.
          if (body.type === 'run_end' || inFlight >= APPEND_WINDOW) await append;
          if (failure) throw failure;
        },
        async flush() {
          await last;
          if (failure) throw failure;
        },
        close() {
          if (open.get(run.runId) === channel) open.delete(run.runId);
        },
      };
      if (opts.broadcasts !== false) open.set(run.runId, channel);
      return channel;
    },
    broadcast(body) {
      for (const channel of open.values()) {
        channel.emit(body).catch((err: unknown) => deps.log.warn({ err, run_id: channel.runId, type: body.type }, 'could not relay an event'));
      }
    },
    openRuns: () => [...open.keys()],
  };
}
