import { pino, type Logger, type LevelWithSilent } from 'pino';

/** Paths pino blanks out wherever they appear: secrets never reach a log. */
export const REDACTED_PATHS = ['token', 'credential', 'key', 'keyPem', 'secret', 'authorization', '*.token', '*.credential', '*.keyPem', '*.secret', 'headers.authorization'];

/**
 * JSON logs for the CP and the daimon, to stdout (or a file descriptor), with secrets redacted: by field name, and
 * by value through `scrub` (each finished line, e.g. the daimon's secret store's redactor) when given.
 */
export function createLogger(opts: { level?: string; name: string; fd?: number; scrub?: (line: string) => string }): Logger {
  return pino(
    {
      name: opts.name, level: (opts.level ?? 'info') as LevelWithSilent, redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      ...(opts.scrub && { hooks: { streamWrite: opts.scrub } }),
    },
    pino.destination({ dest: opts.fd ?? 1, sync: false }),
  );
}
