import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAdminConfig, startCp, type CpHarness } from './cp-harness.js';

let h: CpHarness;
beforeEach(async () => {
  h = await startCp();
});
afterEach(async () => {
  await h.close();
});

const mode = (file: string): number => statSync(join(h.stateDir, file)).mode & 0o777;

describe('CP first start', () => {
  it('creates the CA, the server key, admin.yaml and the database, secrets readable by the owner only', () => {
    expect(mode('ca.key')).toBe(0o600);
    expect(mode('server.key')).toBe(0o600);
    expect(mode('admin.yaml')).toBe(0o600);
    expect(existsSync(join(h.stateDir, 'cp.db'))).toBe(true);
    expect(existsSync(join(h.stateDir, 'ca.crt'))).toBe(true);
    expect(h.adminConfig.cp).toBe(`https://127.0.0.1:${h.port}`);
    expect(h.adminConfig.ca).toBe(readFileSync(join(h.stateDir, 'ca.crt'), 'utf8'));
  });

  it('answers the admin token from admin.yaml as admin', async () => {
    expect(await h.admin.whoami()).toMatchObject({ name: 'admin', role: 'admin' });
  });

  it('reuses the CA and the admin token on a second start, without minting another admin', async () => {
    const caBefore = readFileSync(join(h.stateDir, 'ca.crt'));
    const caKeyBefore = readFileSync(join(h.stateDir, 'ca.key'));
    const tokenBefore = h.adminConfig.token;

    await h.restart();

    expect(readFileSync(join(h.stateDir, 'ca.crt')).equals(caBefore)).toBe(true);
    expect(readFileSync(join(h.stateDir, 'ca.key')).equals(caKeyBefore)).toBe(true);
    const config = readAdminConfig(h.stateDir);
    expect(config.token).toBe(tokenBefore);
    // a new port: admin.yaml follows it and stays private
    expect(config.cp).toBe(`https://127.0.0.1:${h.port}`);
    expect(mode('admin.yaml')).toBe(0o600);

    expect(await h.admin.whoami()).toMatchObject({ name: 'admin', role: 'admin' });
    const admins = (await h.admin.listTokens()).filter((t) => t.kind === 'operator' && t.role === 'admin');
    expect(admins).toHaveLength(1);
    const creations = (await h.admin.audit()).filter((e) => e.action === 'token.create');
    expect(creations).toHaveLength(1);
  });
});
