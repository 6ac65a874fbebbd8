/**
 * The ingest ceiling: a bare `ws` echo server over the same mutual TLS as the CP, in its own process. Run as
 * `node --import tsx bench/lib/echo-server.ts <server.key> <server.crt> <ca.crt>`; prints `listening PORT` on stderr.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData } from 'ws';
import { LIMITS } from '../../src/protocol/limits.js';

const [keyPath, certPath, caPath] = process.argv.slice(2);
if (!keyPath || !certPath || !caPath) {
  console.error('usage: echo-server.ts KEY CERT CA');
  process.exit(2);
}
const server = createServer({
  key: readFileSync(keyPath), cert: readFileSync(certPath), ca: [readFileSync(caPath)],
  requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2',
});
const wss = new WebSocketServer({ server, maxPayload: LIMITS.tunnelFrameBytes + 64 * 1024, perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.on('message', (data: RawData, isBinary: boolean) => ws.send(data, { binary: isBinary }));
});
server.listen(0, '127.0.0.1', () => console.error(`listening ${(server.address() as AddressInfo).port}`));
process.on('SIGTERM', () => {
  for (const c of wss.clients) c.terminate();
  server.close(() => process.exit(0));
});
