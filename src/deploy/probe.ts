import { hostnameSchema } from '../protocol/api.js';

/** One command that prints what a deploy must know of a host: `uname -sm`, `hostname`, and whether systemd runs. */
export const PROBE_COMMAND = 'uname -sm; hostname; if test -d /run/systemd/system; then echo systemd; else echo none; fi';

/** What the probe found on a host. */
export interface HostProbe {
  os: string;
  arch: string;
  hostname: string;
  init: 'systemd' | 'none';
}

/**
 * Parses the probe's output; an Error says which line was not what it should be. With `hostnameGiven` (the operator's
 * `--hostname`) the host's own name is not needed: an unusable one is then not an error (`hostname` is '').
 */
export function parseProbe(stdout: string, hostnameGiven = false): HostProbe {
  const lines = stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const [uname, hostname, init] = lines;
  const [os, arch] = (uname ?? '').split(/\s+/);
  if (!os || !arch) throw new Error(`unexpected "uname -sm" output: ${JSON.stringify((uname ?? '').slice(0, 80))}`);
  if (init !== 'systemd' && init !== 'none') throw new Error(`unexpected init-system probe output: ${JSON.stringify((init ?? '').slice(0, 80))}`);
  const name = hostnameSchema.safeParse(hostname ?? '');
  if (name.success) return { os, arch, hostname: name.data, init };
  if (hostnameGiven) return { os, arch, hostname: '', init };
  throw new Error(`the host's "hostname" is not a usable name: ${JSON.stringify((hostname ?? '').slice(0, 80))} (pass --hostname NAME)`);
}

/** Platforms the release executable runs on, as `uname -sm` prints them. */
const SUPPORTED = new Set(['Linux x86_64']);

/** Why the host cannot take this deploy (unsupported OS/arch, no systemd without `--init none`), or undefined. */
export function platformRefusal(probe: HostProbe, init: 'systemd' | 'none'): string | undefined {
  if (!SUPPORTED.has(`${probe.os} ${probe.arch}`)) {
    return `unsupported platform: ${probe.os} ${probe.arch} (okesu deploys to Linux x86_64 only)`;
  }
  if (init === 'systemd' && probe.init !== 'systemd') {
    return 'no systemd on the host (/run/systemd/system is absent): deploy with --init none to run okesu under its own supervisor';
  }
  return undefined;
}
