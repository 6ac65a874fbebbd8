import type WebSocket from 'ws';
import { countCpAcks, findingFrameBuilder } from './sim-daimon.js';

/** A steady finding feed over one simulated daimon's tunnel. */
export interface PacedFeed {
  sent(): number;
  acked(): number;
  stop(): void;
}

/**
 * Sends `perSecond` findings a second over `ws` (a connected simulated daimon), one frame every `tickMs`, on a
 * schedule that catches up after a late tick rather than drifting. Acknowledgements are counted, not awaited.
 */
export function startPacedFeed(ws: WebSocket, runId: string, perSecond: number, tickMs = 100): PacedFeed {
  const perTick = Math.max(1, Math.round((perSecond * tickMs) / 1000));
  const build = findingFrameBuilder(runId, perTick);
  let sent = 0;
  let acked = 0;
  const onMessage = (data: WebSocket.RawData): void => {
    acked += countCpAcks(data);
  };
  ws.on('message', onMessage);
  const t0 = performance.now();
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - t0) / 1000) * perSecond);
    while (sent + perTick <= due) {
      ws.send(build(sent));
      sent += perTick;
    }
  }, tickMs);
  return {
    sent: () => sent,
    acked: () => acked,
    stop() {
      clearInterval(timer);
      ws.off('message', onMessage);
    },
  };
}

/**
 * Sends `count` findings over `ws` as fast as the CP takes them (frames of `perFrame`, at most `maxInFlight`
 * un-acknowledged, like the daimon's sender) and resolves once every one was acknowledged, i.e. stored.
 */
export function sendFindings(ws: WebSocket, runId: string, count: number, perFrame = 500, maxInFlight = 5000): Promise<void> {
  const build = findingFrameBuilder(runId, perFrame);
  let sent = 0;
  let acked = 0;
  return new Promise((resolve, reject) => {
    const pump = (): void => {
      while (sent < count && sent - acked + perFrame <= maxInFlight) {
        ws.send(build(sent));
        sent += perFrame;
      }
    };
    const onClose = (code: number): void => reject(new Error(`the CP closed a seeding tunnel (${code}) after ${acked} of ${count} acknowledged`));
    const onMessage = (data: WebSocket.RawData): void => {
      acked += countCpAcks(data);
      if (acked >= sent && sent >= count) {
        ws.off('message', onMessage);
        ws.off('close', onClose);
        resolve();
      } else {
        pump();
      }
    };
    ws.on('message', onMessage);
    ws.on('close', onClose);
    pump();
  });
}
