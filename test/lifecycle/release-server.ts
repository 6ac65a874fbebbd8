import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createCertificateAuthority, issueServerCertificate } from '../../src/pki/ca.js';
import { generateHostKeyAndCsr } from '../../src/pki/host-key.js';
import { signHostCsr } from '../../src/pki/host-cert.js';

/**
 * A real HTTPS server with mutual TLS that serves release artifacts the way the CP's contract says
 * (`GET /v1/releases/VERSION/artifact`, bearer credential, `Range: bytes=N-` answered 206): the HTTP contract the
 * daimon's downloader is tested against, not the CP's code.
 */
export interface ReleaseServer {
  url: string;
  ca: string;
  /** A client certificate the server accepts, with its key, and the credential it expects. */
  client: { certPem: string; keyPem: string; credential: string };
  /** Serves `bytes` as the artifact of `version`. */
  serve(version: string, bytes: Buffer): void;
  /** Requests seen: path, range header, the client certificate's CN, whether the bearer matched. */
  requests: Array<{ path: string; range?: string; cn?: string; bearer: boolean; status: number }>;
  /** Answer every request with 200 and the whole body, ignoring Range. */
  ignoreRange: boolean;
  /** Cut the connection after sending this many body bytes of the next answer (once). */
  cutNextAfter?: number;
  close(): Promise<void>;
}

/** Starts one on 127.0.0.1, port 0. */
export async function startReleaseServer(): Promise<ReleaseServer> {
  const ca = await createCertificateAuthority({ commonName: 'okesu release test CA' });
  const server = await issueServerCertificate(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const { keyPem, csrPem } = await generateHostKeyAndCsr('web-01');
  const { certPem } = await signHostCsr(ca, csrPem, 'web-01');
  const credential = 'okh_test_credential_0123456789';
  const artifacts = new Map<string, Buffer>();
  const state: ReleaseServer = {
    url: '', ca: ca.certPem, client: { certPem, keyPem, credential }, requests: [], ignoreRange: false,
    serve: (version, bytes) => void artifacts.set(version, bytes),
    close: () => new Promise((resolve) => {
      srv.closeAllConnections();
      srv.close(() => resolve());
    }),
  };
  const srv = https.createServer({ cert: server.certPem, key: server.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const cn = (req.socket as TLSSocket).getPeerCertificate().subject?.CN;
    const bearer = req.headers.authorization === `Bearer ${credential}`;
    const m = /^\/v1\/releases\/([^/]+)\/artifact$/.exec(req.url ?? '');
    const body = m ? artifacts.get(decodeURIComponent(m[1] ?? '')) : undefined;
    const record = (status: number): void => void state.requests.push({ path: req.url ?? '', ...(req.headers.range !== undefined && { range: req.headers.range }), ...(typeof cn === 'string' && { cn }), bearer, status });
    if (!bearer) {
      record(401);
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'OKS_ERR_UNAUTHENTICATED', message: 'no valid credential was presented' } }));
      return;
    }
    if (!body) {
      record(404);
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'OKS_ERR_NOT_FOUND', message: `no release ${m?.[1] ?? req.url}` } }));
      return;
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    let start = 0;
    if (range && !state.ignoreRange) {
      start = Number(range[1]);
      if (start >= body.length) {
        record(416);
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      record(206);
      res.writeHead(206, { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, 'content-length': body.length - start });
    } else {
      record(200);
      res.writeHead(200, { 'content-length': body.length });
    }
    const rest = body.subarray(start);
    const cut = state.cutNextAfter;
    if (cut !== undefined) {
      state.cutNextAfter = undefined;
      res.write(rest.subarray(0, cut), () => res.destroy());
      return;
    }
    res.end(rest);
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  state.url = `https://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  return state;
}
