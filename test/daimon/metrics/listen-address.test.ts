import { describe, expect, it } from 'vitest';
import { formatListen, isLoopback, parseMetricsListen } from '../../../daimon/metrics/listen-address.js';

describe('--metrics-listen addresses', () => {
  it.each([
    ['127.0.0.1:9464', { host: '127.0.0.1', port: 9464 }],
    ['localhost:0', { host: 'localhost', port: 0 }],
    ['LOCALHOST:80', { host: 'localhost', port: 80 }],
    ['[::1]:9464', { host: '::1', port: 9464 }],
    ['0.0.0.0:9464', { host: '0.0.0.0', port: 9464 }],
    ['10.1.2.3:65535', { host: '10.1.2.3', port: 65535 }],
  ])('%s parses', (text, want) => {
    expect(parseMetricsListen(text)).toEqual(want);
  });

  it.each([
    ['9464', /HOST:PORT/],
    [':9464', /HOST:PORT/],
    ['127.0.0.1', /HOST:PORT/],
    ['127.0.0.1:65536', /out of range/],
    ['127.0.0.1:-1', /HOST:PORT/],
    ['::1:9464', /HOST:PORT/],
    ['[127.0.0.1]:9464', /not an IPv6/],
    ['metrics.example:9464', /not an IPv4 address or localhost/],
    ['127.0.0.1:94x', /HOST:PORT/],
  ])('%s is refused', (text, problem) => {
    expect(() => parseMetricsListen(text)).toThrow(problem);
  });

  it.each([
    ['127.0.0.1', true], ['127.255.0.9', true], ['localhost', true], ['::1', true], ['0:0:0:0:0:0:0:1', true], ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false], ['::', false], ['10.0.0.1', false], ['128.0.0.1', false], ['::ffff:10.0.0.1', false],
  ])('%s loopback: %s', (host, want) => {
    expect(isLoopback(host)).toBe(want);
  });

  it('formats IPv6 in brackets', () => {
    expect(formatListen({ host: '::1', port: 1 })).toBe('[::1]:1');
    expect(formatListen({ host: '127.0.0.1', port: 2 })).toBe('127.0.0.1:2');
  });
});
