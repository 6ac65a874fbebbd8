import type { RecordKey } from '../src/protocol/tunnel.js';
import type { DaimonTransport } from '../src/transport/types.js';
import type { DaimonCounters } from './metrics/daimon-counters.js';
import { recordKey } from './spool/record-line.js';
import type { Spool } from './spool/spool.js';

/** Sender limits. */
export interface SenderOptions {
  /** Records per `transport.send` call (default 500). */
  pageRecords?: number;
  /** Most records sent and not yet acknowledged (default 5,000); past it the sender waits for acks. */
  maxInFlight?: number;
  /** Where records sent and acknowledged are counted (metrics). */
  counters?: Pick<DaimonCounters, 'eventsSent' | 'eventsAcked'>;
}

/** Moves spooled records to the transport; acks shrink the spool. */
export interface Sender {
  /** Sends what is pending, soon (coalesced: many calls in one turn make one pass). */
  kick(): void;
  /** The CP acknowledged these records: drop them from the spool and send more. */
  onAck(keys: readonly RecordKey[]): void;
  /** The transport (re)connected: everything un-acked is offered again, from the oldest. */
  onUp(): void;
  /** Records sent and not yet acknowledged. */
  inFlight(): number;
  /** Stops scheduling passes. */
  stop(): void;
}

/**
 * Sends spooled records over the transport in pages, paging the spool with its cursor so nothing is scanned twice,
 * and keeps at most `maxInFlight` records un-acknowledged. After a reconnect it starts again from the oldest
 * un-acked record: the CP stores each (run, seq) once, so a resend is harmless and a loss is impossible.
 */
export function createSender(spool: Spool, transport: DaimonTransport, opts: SenderOptions = {}): Sender {
  const pageRecords = opts.pageRecords ?? 500;
  const maxInFlight = opts.maxInFlight ?? 5000;
  const inFlight = new Set<string>();
  let cursor = 0;
  let scheduled: NodeJS.Immediate | undefined;
  let stopped = false;

  const pump = (): void => {
    scheduled = undefined;
    while (!stopped && transport.isUp() && inFlight.size < maxInFlight) {
      const limit = Math.min(pageRecords, maxInFlight - inFlight.size);
      let sent: number;
      if (transport.sendLines) {
        // The spool's lines are the records' wire form: sent as they are, not parsed to be serialised again.
        const page = spool.pendingLinesFrom(cursor, limit);
        if (page.lines.length === 0) return;
        cursor = page.cursor;
        for (const key of page.keys) inFlight.add(key);
        transport.sendLines(page.lines);
        sent = page.lines.length;
      } else {
        const page = spool.pendingFrom(cursor, limit);
        if (page.records.length === 0) return;
        cursor = page.cursor;
        for (const record of page.records) inFlight.add(recordKey(record));
        transport.send(page.records);
        sent = page.records.length;
      }
      if (opts.counters) opts.counters.eventsSent += sent;
    }
  };
  const kick = (): void => {
    if (!scheduled && !stopped) scheduled = setImmediate(pump);
  };

  return {
    kick,
    onAck(keys) {
      spool.ack(keys);
      if (opts.counters) opts.counters.eventsAcked += keys.length;
      for (const key of keys) inFlight.delete(recordKey(key));
      kick();
    },
    onUp() {
      cursor = 0;
      inFlight.clear();
      kick();
    },
    inFlight: () => inFlight.size,
    stop() {
      stopped = true;
      if (scheduled) clearImmediate(scheduled);
      scheduled = undefined;
    },
  };
}
