import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { OkesuError } from '../../errors.js';
import type { CpFrame } from '../../protocol/tunnel.js';
import type { DispatchRoute } from '../../transport/types.js';

/**
 * The daimons' tunnels, built by `createTunnelHub` (`tunnel-hub.ts`): mutual-TLS WebSockets on `/v1/tunnel`, one per
 * host (a new one replaces the old), every frame validated, silent peers terminated. It is also the tunnel's
 * DispatchRoute.
 */
export interface TunnelHub {
  /** The tunnel as a DispatchRoute: reaches the hosts whose tunnel is open on this CP. */
  route: DispatchRoute;
  /** Handles an HTTP upgrade on `/v1/tunnel`: authenticates the host, or refuses with a catalogue error. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes the tunnel of a removed (or revoked) host at once, telling it why. */
  disconnect(hostname: string, code: OkesuError['code']): void;
  /** How many tunnels are open. */
  count(): number;
  /** Sends an `upgrade` order on the host's tunnel; false when it has no open tunnel. */
  sendUpgrade(hostname: string, frame: Extract<CpFrame, { type: 'upgrade' }>): boolean;
  /** Starts the heartbeat sweep: pings quiet tunnels, terminates those silent for 3 intervals. */
  start(): void;
  /** Stops the sweep, terminates every tunnel and closes the WebSocket server. */
  stop(): Promise<void>;
}
