import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { parseMetricsListen } from '../../src/cli/commands/cp-serve.js';
import { testDeps } from './helpers.js';

describe('cp serve --metrics-listen', () => {
  it.each([
    ['127.0.0.1:9464', { host: '127.0.0.1', port: 9464 }],
    ['[::1]:9464', { host: '::1', port: 9464 }],
    ['0.0.0.0:9464', { host: '0.0.0.0', port: 9464 }],
    ['10.0.0.5:0', { host: '10.0.0.5', port: 0 }],
    [':9464', null],
    ['9464', null],
    ['127.0.0.1', null],
    ['127.0.0.1:99999', null],
    ['localhost:port', null],
  ])('parses %j', (text, expected) => {
    expect(parseMetricsListen(text)).toEqual(expected);
  });

  it.each([
    [['--metrics-listen', 'nope'], /--metrics-listen: expected HOST:PORT with the address named \(127\.0\.0\.1:9464 for loopback\), got "nope"/],
    [['--metrics-listen', ':9464'], /--metrics-listen: expected HOST:PORT with the address named/],
    [['--listen', '127.0.0.1:8443', '--metrics-listen', '127.0.0.1:8443'], /--metrics-listen: port 8443 is --listen's port already/],
  ])('refuses okesu cp serve %j with a usage error (exit 2) before starting anything', async (args, message) => {
    const deps = testDeps();
    const code = await runCli(['cp', 'serve', '--state', '/nonexistent/okesu-never-created', ...args], deps);
    expect(code).toBe(2);
    expect(deps.stderr.text()).toMatch(message);
    expect(deps.stdout.text()).toBe('');
  });

  it('is documented in the help as unauthenticated', async () => {
    const deps = testDeps();
    expect(await runCli(['cp', 'serve', '--help'], deps)).toBe(0);
    expect(deps.stdout.text()).toMatch(/--metrics-listen <host:port>[\s\S]*WITHOUT authentication[\s\S]*loopback/);
  });
});
