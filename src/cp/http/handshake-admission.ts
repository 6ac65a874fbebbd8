import type { Socket } from 'node:net';
import type { Server, TLSSocket } from 'node:tls';
import { offersResumption } from './client-hello.js';

/** How many resuming handshakes the CP works on at once, and how many more it keeps waiting. */
export interface HandshakeAdmissionOptions {
  /** Resuming handshakes in progress at once (default 32); further ones wait their turn. */
  maxResuming?: number;
  /** Resuming connections kept waiting (default 2048); beyond that one is closed at once and its daimon backs off. */
  maxWaiting?: number;
  /** A connection that sends no ClientHello within this is closed (default 120 s, Node's TLS handshake timeout). */
  helloTimeoutMs?: number;
}

/** What the gate did since the CP started. */
export interface HandshakeAdmissionSnapshot {
  resuming: number;
  waiting: number;
  deferred: number;
  refused: number;
}

/** Lets connections into the TLS handshake in an order that keeps operators ahead of a reconnecting fleet. */
export interface HandshakeAdmission {
  /** Reads the connection's first bytes, then hands it to `startTls` now, or when a resuming handshake ends. */
  admit(socket: Socket, startTls: (socket: Socket) => void): void;
  /** A TLS handshake completed: if it was a resuming one, the next waiting connection goes in. */
  secured(tls: TLSSocket): void;
  snapshot(): HandshakeAdmissionSnapshot;
  /** Closes every connection still in the gate (the server's close waits for them otherwise). */
  close(): void;
}

/**
 * After a CP restart thousands of daimons reconnect at once, each offering its TLS session to resume. Their
 * handshakes, upgrades and hellos all run on the one event loop in arrival order, so a connection that is not one of
 * them (an `okesu` command opens a new connection per call) used to queue behind all of them: seconds. Here at most
 * `maxResuming` resuming handshakes are in progress at once, the rest wait in arrival order (or are closed at once when
 * too many wait: the daimon backs off and keeps its session), and every other connection goes in at once.
 *
 * The ClientHello is only a scheduling hint, nothing is trusted from it: the handshake, mutual TLS, tunnel-auth and the
 * operator's token checks are the same for every connection whatever queue it took.
 */
export function createHandshakeAdmission(opts: HandshakeAdmissionOptions = {}): HandshakeAdmission {
  const maxResuming = opts.maxResuming ?? 32;
  const maxWaiting = opts.maxWaiting ?? 2048;
  const helloTimeoutMs = opts.helloTimeoutMs ?? 120_000;
  const inGate = new Set<Socket>();
  const resuming = new Set<Socket>();
  const waiting: { socket: Socket; go: () => void }[] = [];
  let deferred = 0;
  let refused = 0;

  const release = (socket: Socket): void => {
    if (!resuming.delete(socket)) return;
    while (resuming.size < maxResuming && waiting.length > 0) {
      const next = waiting.shift();
      if (next && !next.socket.destroyed) next.go();
    }
  };

  return {
    admit(socket, startTls) {
      inGate.add(socket);
      const chunks: Buffer[] = [];
      const onData = (chunk: Buffer): void => {
        chunks.push(chunk);
        if (chunks.length === 1) classify(chunk);
      };
      const onTimeout = (): void => void socket.destroy();
      const onGone = (): void => {
        inGate.delete(socket);
        release(socket);
      };
      const go = (resumes: boolean): void => {
        socket.setTimeout(0);
        socket.removeListener('timeout', onTimeout);
        socket.removeListener('data', onData);
        socket.removeListener('end', onEnd);
        socket.removeListener('error', onError);
        inGate.delete(socket);
        if (resumes) resuming.add(socket);
        // What was read goes back in front of the stream: the TLS socket reads it first, as if it had just arrived.
        socket.pause();
        socket.unshift(Buffer.concat(chunks));
        startTls(socket);
      };
      const classify = (first: Buffer): void => {
        if (!offersResumption(first)) return go(false);
        if (resuming.size < maxResuming) return go(true);
        if (waiting.length >= maxWaiting) {
          refused++;
          socket.destroy();
          return;
        }
        deferred++;
        waiting.push({ socket, go: () => go(true) });
      };
      // A peer that gives up while waiting: forget it (its place in `waiting` is skipped once destroyed).
      const onEnd = (): void => void socket.destroy();
      const onError = (): void => undefined;
      socket.on('data', onData);
      socket.on('end', onEnd);
      socket.on('error', onError);
      socket.once('close', onGone);
      socket.setTimeout(helloTimeoutMs, onTimeout);
    },
    secured(tls) {
      // The TLS socket's transport is the socket admitted here.
      const parent = (tls as TLSSocket & { _parent?: Socket })._parent;
      if (parent) release(parent);
    },
    snapshot: () => ({ resuming: resuming.size, waiting: waiting.length, deferred, refused }),
    close() {
      for (const socket of [...inGate]) socket.destroy();
      waiting.length = 0;
    },
  };
}

/**
 * Takes the TLS server's own connection listener (the one net.Server's constructor registers, which starts the
 * handshake) off `srv` and returns it, so that the admission gate decides when each connection starts its handshake.
 */
export function takeTlsConnectionListener(srv: Server): (socket: Socket) => void {
  const tlsListener = srv.listeners('connection').find((l) => l.name === 'tlsConnectionListener');
  if (!tlsListener) throw new Error('the TLS server has no tlsConnectionListener (a Node.js change): the handshake admission cannot take it');
  srv.removeListener('connection', tlsListener as (...args: unknown[]) => void);
  return (socket) => void tlsListener.call(srv, socket);
}
