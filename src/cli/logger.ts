import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import { prettyLogLine, type LogFormat } from './pretty-log.js';

/** Paths pino blanks out wherever they appear: secrets never reach a log. */
export const REDACTED_PATHS = ['token', 'credential', 'key', 'keyPem', 'secret', 'authorization', '*.token', '*.credential', '*.keyPem', '*.secret', 'headers.authorization'];

/**
 * JSON logs for the CP and the daimon, to stdout (or a file descriptor), with secrets redacted: by field name, and
 * by value through `scrub` (each finished line, e.g. the daimon's secret store's redactor) when given. `format:
 * 'pretty'` (`--log-format pretty`) turns each finished line into one for people (after redaction and scrubbing).
 */
export function createLogger(opts: { level?: string; name: string; fd?: number; scrub?: (line: string) => string; format?: LogFormat }): Logger {
  const destination = pino.destination({ dest: opts.fd ?? 1, sync: false });
  return pino(
    {
      name: opts.name, level: (opts.level ?? 'info') as LevelWithSilent, redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      ...(opts.scrub && { hooks: { streamWrite: opts.scrub } }),
    },
    // No pino transport: those run a worker from a file path, which a bundle does not have (toolchain notes).
    opts.format === 'pretty' ? prettyStream(destination) : destination,
  );
}

/** A pino destination that writes each JSON line as `prettyLogLine` made it; flushes through to `out`. */
function prettyStream(out: DestinationStream & { flush?: (cb?: (err?: Error) => void) => void; flushSync?: () => void }): DestinationStream {
  return {
    write: (line: string) => void out.write(prettyLogLine(line)),
    ...(out.flush && { flush: (cb?: (err?: Error) => void) => out.flush?.(cb) }),
    ...(out.flushSync && { flushSync: () => out.flushSync?.() }),
  } as DestinationStream;
}
