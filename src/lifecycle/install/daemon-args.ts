/** The `okesu daemon` settings a unit or a detached supervisor passes on every start (parsed flags; never the token). */
export interface DaemonSettings {
  hostname?: string;
  agents?: readonly string[];
  label?: Readonly<Record<string, string>>;
  policy?: string;
  enable?: readonly string[];
  input?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  secretsFile?: string;
  spoolMaxRecords?: number;
  transport?: string;
  bucket?: string;
  s3Endpoint?: string;
  s3Region?: string;
  /** ms */
  poll?: number;
  heartbeatEvery?: number;
  containment?: string;
  logLevel?: string;
  /** `HOST:PORT` */
  metricsListen?: string;
  metricsAllowRemote?: boolean;
}

/** An input value as `--input` reads it back: JSON unless it is a string that would not parse as JSON anyway. */
function inputText(value: unknown): string {
  if (typeof value !== 'string') return JSON.stringify(value);
  try {
    JSON.parse(value);
    return JSON.stringify(value);
  } catch {
    return value;
  }
}

/**
 * The `okesu daemon` flags (after `--state`) that reproduce `s`: what the unit's ExecStart and the detached
 * supervisor carry. Defaults are left out, so a plain install prints a plain unit. `--hostname` is left out too: the
 * identity binds the hostname once registered.
 */
export function daemonArgs(s: DaemonSettings): string[] {
  const out: string[] = [];
  const flag = (name: string, value: string | number | undefined): void => {
    if (value !== undefined) out.push(`--${name}`, String(value));
  };
  for (const dir of s.agents ?? []) flag('agents', dir);
  for (const [k, v] of Object.entries(s.label ?? {})) flag('label', `${k}=${v}`);
  flag('policy', s.policy);
  if ((s.enable ?? []).length > 0) flag('enable', (s.enable ?? []).join(','));
  for (const [agent, inputs] of Object.entries(s.input ?? {})) {
    for (const [k, v] of Object.entries(inputs)) flag('input', `${agent}.${k}=${inputText(v)}`);
  }
  flag('secrets-file', s.secretsFile);
  flag('spool-max-records', s.spoolMaxRecords);
  flag('transport', s.transport);
  flag('bucket', s.bucket);
  flag('s3-endpoint', s.s3Endpoint);
  flag('s3-region', s.s3Region);
  flag('poll', s.poll === undefined ? undefined : `${s.poll}ms`);
  flag('heartbeat-every', s.heartbeatEvery);
  if (s.containment !== undefined && s.containment !== 'auto') flag('containment', s.containment);
  if (s.logLevel !== undefined && s.logLevel !== 'info') flag('log-level', s.logLevel);
  flag('metrics-listen', s.metricsListen);
  if (s.metricsAllowRemote) out.push('--metrics-allow-remote');
  return out;
}
