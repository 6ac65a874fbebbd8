import { describe, expect, it } from 'vitest';
import { stampedBody } from '../../../src/cp/store/ingest.js';
import type { EventRecord } from '../../../src/protocol/tunnel.js';

const record = (event: Record<string, unknown>, seq = 7): EventRecord => ({ run_id: 'r_01JDABCDEFGHJKMNPQRSTVWXYZ', seq, event } as unknown as EventRecord);
const spread = (r: EventRecord, host: string): string => JSON.stringify({ ...r.event, host, run_id: r.run_id, seq: r.seq });

describe('stampedBody', () => {
  it('is the text of the event spread with the host and the record identity', () => {
    const events: Record<string, unknown>[] = [
      { ts: 1, agent: 'a', type: 'finding', severity: 'HIGH', title: 'x "quoted" \u2028 ü', evidence: ['a\nb'], attributes: { k: [1, null] } },
      { ts: 2, agent: 'a', type: 'log', message: '' },
      {},
      // Claims the body makes are overwritten in place, as the spread does.
      { ts: 3, agent: 'a', type: 'log', host: 'liar', seq: 99, run_id: 'r_other' },
      { host: 'liar' },
    ];
    for (const e of events) for (const host of ['web-01', 'h"q\\x']) expect(stampedBody(record(e), host)).toBe(spread(record(e), host));
  });
});
