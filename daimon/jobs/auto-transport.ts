import type { EventRecord } from '../../src/protocol/tunnel.js';
import type { DaimonTransport } from '../../src/transport/types.js';
import type { JobsTransport } from './jobs-transport.js';

// Runs dispatched over the tunnel whose answer is still to come (bounded: the daimon answers every dispatch at once).
const MAX_PENDING_ANSWERS = 10_000;

/**
 * `--transport auto` (SPEC §3.2): the tunnel while it is up, the bucket while it is not — one DaimonTransport to the
 * daimon. Records go to the tunnel when it is up, else to the bucket; when the tunnel drops with the bucket
 * reachable, the sender is told "up" so it offers the whole un-acknowledged spool again, now to the bucket (the CP
 * stores each (run, seq) once, so a record that went both ways counts once). Dispatches come from both; the daimon's
 * run registry ignores a run it already has. Bucket heartbeats are written only while the tunnel is down.
 */
export function createAutoTransport(tunnel: DaimonTransport, jobs: JobsTransport): DaimonTransport {
  const viaTunnel = new Set<string>();
  return {
    name: 'auto',
    start(h) {
      jobs.setHeartbeats(!tunnel.isUp());
      tunnel.start({
        onDispatch: (envelope) => {
          viaTunnel.add(envelope.run_id);
          if (viaTunnel.size > MAX_PENDING_ANSWERS) viaTunnel.delete(viaTunnel.values().next().value as string);
          h.onDispatch(envelope);
        },
        onCancel: h.onCancel,
        ...(h.onUpgrade && { onUpgrade: h.onUpgrade.bind(h) }),
        onAck: h.onAck,
        onUp: () => {
          jobs.setHeartbeats(false);
          h.onUp();
        },
        onDown: (reason) => {
          jobs.setHeartbeats(true);
          // What the tunnel did not acknowledge goes to the bucket now.
          if (jobs.isUp()) h.onUp();
          else h.onDown(reason);
        },
        onFatal: h.onFatal,
      });
      jobs.start({
        onDispatch: h.onDispatch,
        onCancel: h.onCancel,
        // An order may come both ways (the tunnel's frame and the inbox object): the upgrade handler takes a rollout once.
        ...(h.onUpgrade && { onUpgrade: h.onUpgrade.bind(h) }),
        ...(h.onContact && { onContact: h.onContact.bind(h) }),
        onAck: h.onAck,
        // While the tunnel carries the records, the bucket coming and going changes nothing for the sender.
        onUp: () => {
          if (!tunnel.isUp()) h.onUp();
        },
        onDown: (reason) => {
          if (!tunnel.isUp()) h.onDown(reason);
        },
        onFatal: h.onFatal,
      });
    },
    send(records) {
      if (tunnel.isUp()) tunnel.send(records);
      else if (jobs.isUp()) jobs.send(records);
    },
    // Lines as they are while the tunnel (which takes them) is up; the bucket writes objects, so it gets the records.
    ...(tunnel.sendLines && {
      sendLines(lines: readonly string[]) {
        if (tunnel.isUp()) tunnel.sendLines?.(lines);
        else if (jobs.isUp()) jobs.send(lines.map((line) => JSON.parse(line) as EventRecord));
      },
    }),
    // Answered where the dispatch came from: over the tunnel, or (in the bucket) not at all — the run's events say it.
    ackDispatch(runId, accepted, error) {
      if (viaTunnel.delete(runId)) tunnel.ackDispatch(runId, accepted, error);
      else jobs.ackDispatch(runId, accepted, error);
    },
    isUp: () => tunnel.isUp() || jobs.isUp(),
    // Through the tunnel while it is up and can carry it, else through the bucket (retried there until written).
    reportUpgrade(report) {
      if (tunnel.isUp() && tunnel.reportUpgrade) tunnel.reportUpgrade(report);
      else jobs.reportUpgrade?.(report);
    },
    async stop() {
      await Promise.all([tunnel.stop(), jobs.stop()]);
    },
  };
}
