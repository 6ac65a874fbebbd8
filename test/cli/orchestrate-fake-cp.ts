import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OrchestrationRunView, OrchestrationView, StepView } from '../../src/protocol/orchestration-api.js';
import { FakeStreamServer } from './fake-stream-server.js';
import { NOW, TOKEN, testPki } from './helpers.js';

/** One request the fake CP saw. */
export interface SeenRequest { method: string; url: URL; body: unknown }
/** What a route answers: an HTTP status and a JSON body. */
export interface Answer { status: number; body: unknown }
/** A route of the fake CP. */
export type Route = (req: SeenRequest) => Answer;

/** A fake CP over real HTTPS: JSON routes by `METHOD /path`, the live stream scripts of FakeStreamServer, a client config file. */
export class FakeCp {
  seen: SeenRequest[] = [];
  routes = new Map<string, Route>();
  server!: FakeStreamServer;
  configFile = '';

  async start(): Promise<this> {
    const pki = await testPki();
    this.server = new FakeStreamServer(pki, (req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'https://127.0.0.1');
        const seen: SeenRequest = { method: req.method ?? '', url, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
        this.seen.push(seen);
        const route = this.routes.get(`${seen.method} ${url.pathname}`);
        const answer = route ? route(seen) : { status: 404, body: { error: { code: 'OKS_ERR_NOT_FOUND', message: `not found: ${url.pathname}` } } };
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
      });
    });
    await this.server.listen();
    const dir = mkdtempSync(join(tmpdir(), 'okesu-orch-cli-'));
    this.configFile = join(dir, 'admin.yaml');
    writeFileSync(this.configFile, JSON.stringify({ cp: `https://127.0.0.1:${this.server.port}`, ca: pki.ca, token: TOKEN }));
    return this;
  }

  /** Requests other than the stream's, as `METHOD /path`. */
  calls(): string[] {
    return this.seen.map((s) => `${s.method} ${s.url.pathname}`);
  }

  stop(): Promise<void> {
    return this.server.stop();
  }
}

/** A stored orchestration view. */
export function orchestrationView(over: Partial<OrchestrationView> = {}): OrchestrationView {
  return {
    name: 'c2-callback-triage', description: 'triage a C2 callback', steps: [{ id: 'scan', agent: 'edr-investigator' }, { id: 'contain', agent: 'forensic-collector' }],
    triggers: [], updated_at: NOW, updated_by: 'admin', ...over,
  };
}

/** A step view with overridable fields. */
export function stepView(over: Partial<StepView> = {}): StepView {
  return {
    id: 'scan', agent: 'edr-investigator', status: 'pending', prompt: null, inputs: null, hosts: [], result: null, error: null,
    started_at: null, ended_at: null, decided_by: null, ...over,
  };
}

/** An orchestration run view: two pending steps unless told otherwise. */
export function orchRunView(over: Partial<OrchestrationRunView> = {}): OrchestrationRunView {
  return {
    id: 'o_01JD0000000000000000000000', name: 'c2-callback-triage', status: 'running', trigger: { host: 'web-01' }, triggered_by: 'admin',
    created_at: NOW, updated_at: NOW, ended_at: null, error: null,
    steps: [stepView(), stepView({ id: 'contain', agent: 'forensic-collector' })], ...over,
  };
}

/** A host of a step. */
export function stepHost(host: string, status: 'pending' | 'running' | 'completed' | 'failed', over: Partial<StepView['hosts'][number]> = {}): StepView['hosts'][number] {
  return { host, status, run_id: status === 'pending' ? null : `r_${host}`, result: null, findings: 0, error: null, ...over };
}

/** The valid c2-callback-triage YAML the CLI tests validate, apply and run. */
export const TRIAGE_YAML = `name: c2-callback-triage
description: triage a C2 callback
inputs:
  host: { type: string, required: true }
  pid: { type: int }
steps:
  - id: scan
    agent: edr-investigator
    node: "{{trigger.host}}"
    prompt: "check process {{trigger.pid}}"
  - id: contain
    agent: forensic-collector
    node: "{{trigger.host}}"
    when: "{{scan.result.verdict == 'malicious'}}"
    approval: required
    prompt: "snapshot {{scan.result.summary}}"
`;
