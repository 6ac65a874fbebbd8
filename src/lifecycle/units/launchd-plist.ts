import { join } from 'node:path';
import { LAUNCHD_LABEL, assertNoToken, assertUserName, superviseArgs } from './unit-options.js';
import type { UnitOptions } from './unit-options.js';

/** Text escaped for an XML element. */
function xml(text: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x08\x0b\x0c\x0e-\x1f]/.test(text)) throw new Error(`a plist cannot carry control characters: ${JSON.stringify(text)}`);
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/**
 * A launchd job (macOS, /Library/LaunchDaemons/dev.okesu.daimon.plist) that runs the daimon under `okesu supervise`,
 * kept alive like the systemd unit. Verified on Linux only: printed and parsed as a plist in the tests, never loaded.
 * launchd has no sandbox to match systemd's; the job runs as `user` (root when it is `root`).
 */
export function launchdPlist(opts: UnitOptions & { version: string }): string {
  assertNoToken(opts.daemonArgs);
  assertUserName(opts.user);
  const args = [opts.executable, ...superviseArgs(opts)].map((a) => `    <string>${xml(a)}</string>`);
  const log = xml(join(opts.stateDir, 'daimon.log'));
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    // No double hyphen may appear inside an XML comment: the version is the only variable part.
    `<!-- okesu ${xml(opts.version).replaceAll('-', '_')}: the daimon of this host under its supervisor. -->`,
    '<plist version="1.0">',
    '<dict>',
    '  <key>Label</key>',
    `  <string>${LAUNCHD_LABEL}</string>`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    ...args,
    '  </array>',
    ...(opts.user === 'root' ? [] : ['  <key>UserName</key>', `  <string>${xml(opts.user)}</string>`]),
    '  <key>RunAtLoad</key>',
    '  <true/>',
    '  <key>KeepAlive</key>',
    '  <true/>',
    '  <key>ThrottleInterval</key>',
    '  <integer>5</integer>',
    '  <key>Umask</key>',
    '  <integer>63</integer>',
    '  <key>WorkingDirectory</key>',
    `  <string>${xml(opts.stateDir)}</string>`,
    '  <key>StandardOutPath</key>',
    `  <string>${log}</string>`,
    '  <key>StandardErrorPath</key>',
    `  <string>${log}</string>`,
    '</dict>',
    '</plist>',
    '',
  ].join('\n');
}
