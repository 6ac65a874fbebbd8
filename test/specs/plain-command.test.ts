import { describe, expect, it } from 'vitest';
import { plainCommand } from '../../src/specs/plain-command.js';

describe('plainCommand', () => {
  it.each([
    ['ps -eo pid,comm', ['ps', '-eo', 'pid,comm']],
    ['  /usr/bin/ss   -tlnp\t-H ', ['/usr/bin/ss', '-tlnp', '-H']],
    ['df -P --output=pcent /', ['df', '-P', '--output=pcent', '/']],
    ['echo héllo@host:1%', ['echo', 'héllo@host:1%']],
  ])('splits %j into its words', (command, words) => {
    expect(plainCommand(command)).toEqual({ ok: true, words });
  });

  it.each([
    ["c''url x", /"'"/],
    ['c"url" x', /"""/],
    ['cu\\rl x', /"\\"/],
    ['$(printf curl) x', /"\$"/],
    ['`printf curl` x', /"`"/],
    [';curl x', /";"/],
    ['ps | curl x', /"\|"/],
    ['ps && curl x', /"&"/],
    ['ps > /etc/x', /">"/],
    ['cat < /etc/shadow', /"<"/],
    ['(curl x)', /"\("/],
    ['cat /etc/*', /"\*"/],
    ['cat /etc/passw?', /"\?"/],
    ['cat /etc/[p]asswd', /"\["/],
    ['echo {a,b}', /"\{"/],
    ['cat ~/x', /"~"/],
    ['ps #x', /"#"/],
    ['ps\ncurl x', /control character \(0x0a\)/],
    ['ps\rcurl x', /control character \(0x0d\)/],
    ['PATH=/x curl', /variable assignment \(PATH=\/x\)/],
    ['exec curl x', /exec is run by the shell itself/],
    ['eval curl x', /eval is run by the shell itself/],
    ['command curl x', /command is run by the shell itself/],
    ['time curl x', /time is run by the shell itself/],
    ['. /tmp/x', /\. is run by the shell itself/],
    ['', /empty/],
  ])('refuses %j', (command, reason) => {
    const r = plainCommand(command);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.reason).toMatch(reason);
  });
});
