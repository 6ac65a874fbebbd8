import https from 'node:https';
import { registerResponseSchema } from '../../src/protocol/api.js';
import { generateHostKeyAndCsr } from '../../src/pki/host-key.js';
import type { FleetTarget } from '../sim/messages.js';

/** An identity a simulated daimon obtained through `/v1/register`. */
export interface HostIdentity {
  hostname: string;
  key: string;
  cert: string;
  credential: string;
  ca: string;
}

/** Registers `hostname` exactly as a daimon does: a fresh key + CSR, POST /v1/register with the join token. */
export async function registerHost(target: FleetTarget, hostname: string, joinToken: string, agent: https.Agent | false = false): Promise<HostIdentity> {
  const { keyPem, csrPem } = await generateHostKeyAndCsr(hostname);
  const body = JSON.stringify({ token: joinToken, csr: csrPem, hostname, os: 'linux', arch: 'x64', version: 'bench' });
  const answer = await postJson(target, '/v1/register', body, agent);
  if (answer.status !== 201) throw new Error(`register ${hostname}: HTTP ${answer.status} ${answer.text}`);
  const res = registerResponseSchema.parse(JSON.parse(answer.text));
  return { hostname: res.hostname, key: keyPem, cert: res.certificate, credential: res.credential, ca: res.ca };
}

function postJson(t: FleetTarget, path: string, body: string, agent: https.Agent | false): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: t.host, port: t.port, path, method: 'POST', ca: t.ca, agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
