/** The one catalogue of Okesu error codes: the same code appears in error frames, HTTP bodies, logs and CLI output. */
export const ERROR_CATALOGUE = {
  OKS_ERR_BAD_FRAME: { status: 400, message: 'malformed frame' },
  OKS_ERR_FRAME_TOO_LARGE: { status: 413, message: 'frame exceeds the size limit' },
  OKS_ERR_BAD_REQUEST: { status: 400, message: 'malformed request' },
  OKS_ERR_PAYLOAD_TOO_LARGE: { status: 413, message: 'request body exceeds the size limit' },
  OKS_ERR_UNAUTHENTICATED: { status: 401, message: 'no valid credential was presented' },
  OKS_ERR_FORBIDDEN: { status: 403, message: 'this token’s role may not do that' },
  OKS_ERR_TOKEN_INVALID: { status: 401, message: 'token is malformed or unknown' },
  OKS_ERR_TOKEN_EXPIRED: { status: 401, message: 'token has expired' },
  OKS_ERR_TOKEN_EXHAUSTED: { status: 401, message: 'token has no uses left' },
  OKS_ERR_TOKEN_REVOKED: { status: 401, message: 'token was revoked' },
  OKS_ERR_CA_PIN_MISMATCH: { status: 0, message: 'the CP’s CA does not match the pin in the join token' },
  OKS_ERR_CLIENT_CERT_REQUIRED: { status: 401, message: 'a client certificate is required on the tunnel' },
  OKS_ERR_CLIENT_CERT_UNTRUSTED: { status: 401, message: 'client certificate was not issued by this CP’s CA' },
  OKS_ERR_HOST_REVOKED: { status: 403, message: 'this host was removed from the CP; register again with a new join token' },
  OKS_ERR_HOST_MISMATCH: { status: 403, message: 'credential does not belong to the certificate’s hostname' },
  OKS_ERR_HOSTNAME_TAKEN: { status: 409, message: 'hostname is bound to another identity; remove that host first (okesu hosts rm)' },
  OKS_ERR_CSR_INVALID: { status: 400, message: 'certificate signing request is invalid' },
  OKS_ERR_NOT_FOUND: { status: 404, message: 'not found' },
  OKS_ERR_HOST_UNREACHABLE: { status: 409, message: 'no transport can reach the host' },
  OKS_ERR_RUN_FINISHED: { status: 409, message: 'the run has already finished' },
  OKS_ERR_AGENT_UNKNOWN: { status: 404, message: 'no agent by that name' },
  OKS_ERR_AGENT_INVALID: { status: 400, message: 'agent definition is invalid' },
  OKS_ERR_POLICY_DENIED: { status: 403, message: 'the host’s policy file forbids this' },
  OKS_ERR_EVENT_INVALID: { status: 400, message: 'event is invalid' },
  OKS_ERR_SPOOL_FULL: { status: 507, message: 'the event spool is full; runs are paused until the CP acknowledges' },
  OKS_ERR_TUNNEL_REPLACED: { status: 409, message: 'a newer tunnel of the same host replaced this one' },
  OKS_ERR_CONFIG: { status: 0, message: 'configuration is missing or invalid' },
  OKS_ERR_CP_UNREACHABLE: { status: 0, message: 'cannot reach the control plane' },
  OKS_ERR_SPEC_INVALID: { status: 400, message: 'orchestration spec is invalid' },
  OKS_ERR_STATE: { status: 409, message: 'the run is not in a state that allows this' },
  OKS_ERR_STREAM_GAP: { status: 410, message: 'resume point is older than the retained feed' },
  OKS_ERR_INTERNAL: { status: 500, message: 'internal error' },
  // Issue 13 (hardening): storage, rate limits, trust, run ownership, identity.
  OKS_ERR_STORE_UNAVAILABLE: { status: 503, message: 'the CP cannot write its store right now; retry later' },
  OKS_ERR_STORE_REPLACED: { status: 503, message: 'the CP’s database file was removed or replaced while it ran; writes are refused until it is restarted' },
  OKS_ERR_STATE_INCOMPLETE: { status: 0, message: 'the CP state directory is incomplete' },
  OKS_ERR_RATE_LIMITED: { status: 429, message: 'too many failed attempts from this address; retry later' },
  OKS_ERR_SIGNATURE_INVALID: { status: 403, message: 'the agent definition is not signed by a key this host trusts' },
  OKS_ERR_RUN_UNKNOWN: { status: 409, message: 'events for a run the CP did not dispatch' },
  OKS_ERR_NESTING_TOO_DEEP: { status: 400, message: 'value is nested too deeply' },
  OKS_ERR_CERT_RENEWAL: { status: 400, message: 'certificate renewal was refused' },
  OKS_ERR_STATE_IN_USE: { status: 409, message: 'a control plane is running on this state directory' },
  // Issue 14 (jobs mode over S3).
  OKS_ERR_BUCKET: { status: 502, message: 'the bucket store failed' },
  // Issue 15 (lifecycle: releases, upgrades, install, deploy).
  OKS_ERR_RELEASE_KEY: { status: 400, message: 'not a usable release key' },
  OKS_ERR_RELEASE_INVALID: { status: 400, message: 'the release is malformed' },
  OKS_ERR_RELEASE_UNTRUSTED: { status: 403, message: 'the release is not signed by a trusted release key' },
  OKS_ERR_RELEASE_MISMATCH: { status: 400, message: 'the artifact does not match its signed manifest' },
  OKS_ERR_RELEASE_DOWNGRADE: { status: 409, message: 'the release is older than the version running; give --allow-downgrade to install it' },
  OKS_ERR_UPGRADE: { status: 500, message: 'the upgrade failed' },
  OKS_ERR_INSTALL: { status: 0, message: 'the installation failed' },
  OKS_ERR_DEPLOY: { status: 0, message: 'the deployment failed' },
  OKS_ERR_RANGE_NOT_SATISFIABLE: { status: 416, message: 'the requested range is not satisfiable' },
  OKS_ERR_NO_LEADER: { status: 503, message: 'no replica of the CP leads right now (one takes over within seconds); retry' },
  OKS_ERR_SSH_HOST_KEY_CHANGED: { status: 409, message: 'the host presents an SSH host key other than the one pinned for it' },
  // Issue 16 (scale-out).
  OKS_ERR_CLUSTER_KEY: { status: 0, message: 'the cluster key is unusable or does not match the store' },
} as const;

/** A stable error code such as `OKS_ERR_BAD_FRAME`. */
export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** An error that carries a catalogue code, an HTTP-ish status and a message saying what was wrong and where. */
export class OkesuError extends Error {
  readonly code: ErrorCode;
  readonly status: number;

  constructor(code: ErrorCode, detail?: string) {
    const base = ERROR_CATALOGUE[code].message;
    super(detail ? `${base}: ${detail}` : base);
    this.name = 'OkesuError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
  }

  /** The JSON body used on the wire for this error. */
  toBody(): { error: { code: ErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

/** True when `value` is a known error code. */
export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CATALOGUE, value);
}
