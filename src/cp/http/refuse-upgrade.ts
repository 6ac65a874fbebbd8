import type { Duplex } from 'node:stream';
import type { OkesuError } from '../../errors.js';
import { RateLimitedError } from './auth-failures.js';

/** Answers a WebSocket upgrade with an HTTP error carrying the catalogue code, then closes the socket. */
export function refuseUpgrade(socket: Duplex, error: OkesuError): void {
  const body = JSON.stringify(error.toBody());
  const status = error.status || 400;
  const retry = error instanceof RateLimitedError ? `retry-after: ${error.retryAfterS}\r\n` : '';
  socket.end(
    `HTTP/1.1 ${status} ${error.code}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${retry}connection: close\r\n\r\n${body}`,
  );
}
