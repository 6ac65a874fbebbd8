import { describe, expect, it } from 'vitest';
import { matchesCluster, matchesFinding, matchesGroup, parseFilter } from '../../../../tui/views/findings/finding-filter.js';
import { cluster, finding, group } from './fixtures.js';

describe('parseFilter', () => {
  it('splits words of every text, keys known fields and keeps other words as lower-case substrings', () => {
    expect(parseFilter('host:web-01', ' Reverse  sev:high ', undefined, '')).toEqual([
      { key: 'host', value: 'web-01' },
      { key: null, value: 'reverse' },
      { key: 'severity', value: 'high' },
    ]);
    expect(parseFilter('nope:x fp:abc cat:net ind:1.2.3.4')).toEqual([
      { key: null, value: 'nope:x' },
      { key: 'fingerprint', value: 'abc' },
      { key: 'category', value: 'net' },
      { key: 'indicator', value: '1.2.3.4' },
    ]);
  });
});

describe('matchesFinding', () => {
  const f = finding(1, { title: 'Reverse shell', host: 'web-01', agent: 'ioc-sweep', resource: '/usr/bin/nc', severity: 'MEDIUM', fingerprint: 'abc', indicators: ['203.0.113.7'] });
  const yes = (text: string) => expect(matchesFinding(f, parseFilter(text)), text).toBe(true);
  const no = (text: string) => expect(matchesFinding(f, parseFilter(text)), text).toBe(false);

  it('matches bare words against title, host, agent, resource and severity, any case', () => {
    for (const t of ['', 'reverse', 'WEB-01', 'ioc', '/bin/nc', 'medium', 'shell web']) yes(t);
    for (const t of ['db-01', 'shell db', 'process']) no(t);
  });

  it('matches keyed terms exactly, sev: as this level and above', () => {
    for (const t of ['host:WEB-01', 'agent:ioc-sweep', 'status:open', 'fp:abc', 'ind:203.0.113.7', 'sev:medium', 'sev:low', 'sev:info', 'cat:process']) yes(t);
    for (const t of ['host:web', 'sev:high', 'sev:crit', 'sev:bogus', 'sev:', 'status:resolved', 'fp:ab', 'ind:203.0.113', 'cat:file']) no(t);
  });
});

describe('matchesGroup and matchesCluster', () => {
  it('match a group by its sample of hosts, agent, fingerprint, severity and open findings', () => {
    const g = group(1, { sample_hosts: ['web-01', 'db-01'], open: 0, severity: 'LOW', fingerprint: 'fp-x' });
    expect(matchesGroup(g, parseFilter('host:db-01 fp:fp-x sev:low'))).toBe(true);
    expect(matchesGroup(g, parseFilter('host:cache-01'))).toBe(false);
    expect(matchesGroup(g, parseFilter('status:open'))).toBe(false);
    expect(matchesGroup({ ...g, open: 2 }, parseFilter('status:open'))).toBe(true);
    expect(matchesGroup(g, parseFilter('sev:medium'))).toBe(false);
    expect(matchesGroup(g, parseFilter('run:r_1'))).toBe(false);
  });

  it('match a cluster by indicator, kind, hosts and max severity', () => {
    const c = cluster('evil.example', { kind: 'domain', sample_hosts: ['web-01'], max_severity: 'HIGH' });
    expect(matchesCluster(c, parseFilter('evil domain host:web-01 sev:high'))).toBe(true);
    expect(matchesCluster(c, parseFilter('ind:evil.example'))).toBe(true);
    expect(matchesCluster(c, parseFilter('ind:evil'))).toBe(false);
    expect(matchesCluster(c, parseFilter('sev:critical'))).toBe(false);
    expect(matchesCluster(c, parseFilter('agent:x'))).toBe(false);
  });
});
