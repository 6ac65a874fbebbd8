/** The CP's SQLite schema, version 1. Applied in one transaction on first open. */
export const SCHEMA_V1 = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE hosts (
  id INTEGER PRIMARY KEY,
  hostname TEXT NOT NULL,
  cert_serial TEXT NOT NULL,
  credential_id TEXT NOT NULL UNIQUE,
  credential_hash TEXT NOT NULL,
  os TEXT NOT NULL DEFAULT '',
  arch TEXT NOT NULL DEFAULT '',
  version TEXT NOT NULL DEFAULT '',
  labels TEXT NOT NULL DEFAULT '{}',
  transport TEXT NOT NULL DEFAULT 'tunnel',
  registered_at INTEGER NOT NULL,
  revoked_at INTEGER,
  last_heartbeat INTEGER,
  heartbeat_seq INTEGER,
  running INTEGER NOT NULL DEFAULT 0,
  spool_depth INTEGER NOT NULL DEFAULT 0
);
-- A hostname binds to one live identity; removing the host (revoked_at) frees it.
CREATE UNIQUE INDEX hosts_live_hostname ON hosts(hostname) WHERE revoked_at IS NULL;
CREATE INDEX hosts_serial ON hosts(cert_serial);

CREATE TABLE tokens (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('join', 'operator')),
  role TEXT,
  name TEXT NOT NULL DEFAULT '',
  hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  uses_left INTEGER,
  revoked_at INTEGER,
  created_by TEXT NOT NULL DEFAULT ''
);

CREATE TABLE runs (
  run_id TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  agent TEXT NOT NULL,
  prompt TEXT NOT NULL DEFAULT '',
  inputs TEXT NOT NULL DEFAULT '{}',
  status TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  ended_at INTEGER,
  timeout_ms INTEGER NOT NULL,
  error TEXT,
  findings INTEGER NOT NULL DEFAULT 0,
  events INTEGER NOT NULL DEFAULT 0,
  created_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX runs_host_created ON runs(host, created_at);
CREATE INDEX runs_created ON runs(created_at);

-- The run transcript: every event once per (run_id, seq), the exactly-once key. Rows append in arrival order
-- (rowid) with a small unique index, cheaper to write than a table clustered on the text key.
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE UNIQUE INDEX events_run_seq ON events(run_id, seq);

-- A finding is stored once, as its transcript event (event_id); this row holds what the CP adds to it and the
-- columns the finding filters read. One index, for the per-host view (hosts are many, each a small share of the
-- findings); the other filters match a large share and scan newest first until the page is full.
CREATE TABLE findings (
  id INTEGER PRIMARY KEY,
  event_id INTEGER NOT NULL,
  fingerprint TEXT NOT NULL,
  host TEXT NOT NULL,
  agent TEXT NOT NULL,
  ts INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  severity_rank INTEGER NOT NULL,
  category TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open',
  indicators TEXT NOT NULL DEFAULT ''
);
CREATE INDEX findings_host ON findings(host, id);

-- One row per fingerprint, written once per commit that brings findings of it.
CREATE TABLE finding_groups (
  fingerprint TEXT PRIMARY KEY,
  severity TEXT NOT NULL,
  title TEXT NOT NULL,
  category TEXT NOT NULL,
  agent TEXT NOT NULL,
  count INTEGER NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  last_finding_id INTEGER NOT NULL,
  first_host TEXT NOT NULL
);
-- The hosts of a group besides its first_host (most groups have one host: no row here then).
CREATE TABLE finding_group_hosts (
  fingerprint TEXT NOT NULL,
  host TEXT NOT NULL,
  PRIMARY KEY (fingerprint, host)
) WITHOUT ROWID;
CREATE TABLE finding_indicators (
  indicator TEXT NOT NULL,
  kind TEXT NOT NULL,
  finding_id INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  PRIMARY KEY (indicator, finding_id)
) WITHOUT ROWID;

-- The operator live stream's durable log: id is the resume cursor, never reused. A finding entry references its
-- finding (ref) instead of copying it; other kinds carry their payload.
CREATE TABLE feed (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  ts INTEGER NOT NULL,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL DEFAULT '',
  ref INTEGER
);

CREATE TABLE audit (
  id INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  actor TEXT NOT NULL,
  role TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '{}'
);
`;

/**
 * Version 2: orchestrations (SPEC §6). A run keeps the parsed spec it started with (a later apply does not change
 * it); steps and their hosts are rows, so a CP restart resumes from here. Operator host labels are kept apart from
 * the labels a daimon announces, so a reconnect never undoes them.
 */
export const SCHEMA_V2 = `
CREATE TABLE orchestrations (
  name TEXT PRIMARY KEY,
  yaml TEXT NOT NULL,
  spec TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  updated_by TEXT NOT NULL
);

CREATE TABLE orchestration_runs (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  spec TEXT NOT NULL,
  status TEXT NOT NULL,
  trigger TEXT NOT NULL DEFAULT '{}',
  triggered_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  ended_at INTEGER,
  error TEXT
);
CREATE INDEX orchestration_runs_created ON orchestration_runs(created_at);
CREATE INDEX orchestration_runs_active ON orchestration_runs(status) WHERE status IN ('pending', 'running', 'approval_required');

-- One row per step of a run; rendered holds the prompt, inputs and targets as rendered when the step was reached.
CREATE TABLE orchestration_steps (
  run_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  step_id TEXT NOT NULL,
  agent TEXT NOT NULL,
  status TEXT NOT NULL,
  rendered TEXT,
  approved INTEGER NOT NULL DEFAULT 0,
  result TEXT,
  error TEXT,
  started_at INTEGER,
  ended_at INTEGER,
  decided_by TEXT,
  PRIMARY KEY (run_id, idx)
) WITHOUT ROWID;

-- One row per host of a step, with the agent run dispatched there.
CREATE TABLE orchestration_step_hosts (
  run_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  pos INTEGER NOT NULL,
  host TEXT NOT NULL,
  status TEXT NOT NULL,
  agent_run_id TEXT,
  result TEXT,
  findings INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  PRIMARY KEY (run_id, idx, pos)
) WITHOUT ROWID;
CREATE INDEX orchestration_step_hosts_agent_run ON orchestration_step_hosts(agent_run_id) WHERE agent_run_id IS NOT NULL;

-- The last cron slot fired per orchestration and trigger: a slot never fires twice, across restarts too.
CREATE TABLE orchestration_cron_fired (
  name TEXT NOT NULL,
  trigger_idx INTEGER NOT NULL,
  cron TEXT NOT NULL,
  slot INTEGER NOT NULL,
  PRIMARY KEY (name, trigger_idx)
) WITHOUT ROWID;

-- Labels an operator set (value) or removed (NULL) on a host; they win over the daimon's own labels.
CREATE TABLE host_label_overrides (
  hostname TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT,
  PRIMARY KEY (hostname, key)
) WITHOUT ROWID;
`;

/**
 * Version 3: triage in the groups view. `open` counts the group's findings still `open`, kept by the group upsert
 * (new findings are open) and the triage transaction, so listing groups never counts findings. Backfilled here.
 */
export const SCHEMA_V3 = `
ALTER TABLE finding_groups ADD COLUMN open INTEGER NOT NULL DEFAULT 0;
UPDATE finding_groups SET open = c.n
  FROM (SELECT fingerprint, count(*) AS n FROM findings WHERE status = 'open' GROUP BY fingerprint) AS c
  WHERE c.fingerprint = finding_groups.fingerprint;
`;

/**
 * Version 4 (issue 13): certificate lifetimes, for renewal over the tunnel. `cert_issued_at`/`cert_not_after` of the
 * live certificate; `cert_serial_prev` is the serial a renewal replaced, still accepted until the new certificate is
 * first used (the answer carrying it can be lost with the tunnel). Hosts registered before this version got 365 days.
 */
export const SCHEMA_V4 = `
ALTER TABLE hosts ADD COLUMN cert_issued_at INTEGER;
ALTER TABLE hosts ADD COLUMN cert_not_after INTEGER;
ALTER TABLE hosts ADD COLUMN cert_serial_prev TEXT;
UPDATE hosts SET cert_issued_at = registered_at, cert_not_after = registered_at + 365 * 86400000;
`;

/**
 * Version 5 (issue 14, jobs mode): a host's public keys, to verify what it writes to the bucket (SPKI DER, base64;
 * `public_key_prev` is the key a renewal replaced, kept so objects in flight still verify); its bucket poll and
 * heartbeat intervals (from its bucket heartbeats or its tunnel hello), so liveness survives a CP restart; and the
 * route each run was dispatched by (`tunnel` or `jobs`; null for ticks and runs that reached no host).
 */
export const SCHEMA_V5 = `
ALTER TABLE hosts ADD COLUMN public_key TEXT;
ALTER TABLE hosts ADD COLUMN public_key_prev TEXT;
ALTER TABLE hosts ADD COLUMN poll_ms INTEGER;
ALTER TABLE hosts ADD COLUMN bucket_interval_ms INTEGER;
ALTER TABLE runs ADD COLUMN route TEXT;
`;

/**
 * Version 6 (issue 15, lifecycle): signed releases (the artifact itself lives in the state directory's `releases/`),
 * rollouts and each host's state in them, SSH host keys pinned by `okesu deploy`, and join tokens bound to the one
 * hostname a deploy issued them for.
 */
export const SCHEMA_V6 = `
CREATE TABLE releases (
  version TEXT PRIMARY KEY,
  platform TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  key_id TEXT NOT NULL,
  signed TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  uploaded_at INTEGER NOT NULL,
  uploaded_by TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE rollouts (
  id TEXT PRIMARY KEY,
  version TEXT NOT NULL,
  state TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  ended_at INTEGER,
  batch INTEGER NOT NULL,
  canary INTEGER NOT NULL,
  halt_on_error INTEGER NOT NULL,
  health_timeout_ms INTEGER NOT NULL,
  allow_downgrade INTEGER NOT NULL,
  halted_reason TEXT
) WITHOUT ROWID;

CREATE TABLE rollout_hosts (
  rollout_id TEXT NOT NULL REFERENCES rollouts(id) ON DELETE CASCADE,
  hostname TEXT NOT NULL,
  batch INTEGER NOT NULL,
  state TEXT NOT NULL,
  from_version TEXT NOT NULL DEFAULT '',
  reason TEXT,
  ordered_at INTEGER,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (rollout_id, hostname)
) WITHOUT ROWID;
CREATE INDEX rollout_hosts_hostname ON rollout_hosts(hostname, updated_at);

CREATE TABLE ssh_host_keys (
  target TEXT PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  pinned_at INTEGER NOT NULL,
  pinned_by TEXT NOT NULL
) WITHOUT ROWID;

ALTER TABLE tokens ADD COLUMN bound_hostname TEXT;
`;

/**
 * Version 7 (issue 16, scale-out): CP replicas sharing one store. `hosts.replica_id` is the replica holding the host's
 * tunnel now (NULL when none); `replicas` is each replica's announcement; `leases` are named leases with fencing epochs
 * (the leader's among them).
 */
export const SCHEMA_V7 = `
ALTER TABLE hosts ADD COLUMN replica_id TEXT;

CREATE TABLE replicas (
  id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  version TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  heard_at INTEGER NOT NULL,
  tunnels INTEGER NOT NULL,
  load REAL NOT NULL
);

CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
`;

/**
 * Version 8 (issue 19, alert delivery): notification channels (their secrets sealed), the outbox of deliveries (a
 * finding, or a digest gathering several while `held`), every attempt at one (the delivery log), and the fingerprint
 * groups each channel has been told of (one message per new group, not per repeat). The enqueuer's feed cursor is the
 * `notify.cursor` meta key.
 */
export const SCHEMA_V8 = `
CREATE TABLE notify_channels (
  name TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  config TEXT NOT NULL,
  sealed TEXT NOT NULL,
  rules TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL
);

CREATE TABLE notify_outbox (
  id TEXT PRIMARY KEY,
  channel TEXT NOT NULL REFERENCES notify_channels(name) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  state TEXT NOT NULL,
  findings TEXT NOT NULL,
  total INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  due_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL
);
CREATE INDEX notify_outbox_due ON notify_outbox(state, due_at);
CREATE INDEX notify_outbox_channel ON notify_outbox(channel, created_at);

CREATE TABLE notify_attempts (
  delivery_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  at INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  detail TEXT NOT NULL,
  PRIMARY KEY (delivery_id, attempt)
);
CREATE INDEX notify_attempts_channel ON notify_attempts(channel, at);

CREATE TABLE notify_seen (
  channel TEXT NOT NULL REFERENCES notify_channels(name) ON DELETE CASCADE,
  fingerprint TEXT NOT NULL,
  first_at INTEGER NOT NULL,
  PRIMARY KEY (channel, fingerprint)
);
CREATE INDEX notify_seen_recent ON notify_seen(channel, first_at);
`;
