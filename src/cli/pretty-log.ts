import { displayText } from '../text/display-text.js';

/** The log formats of `--log-format`: pino's JSON lines (default: journald and log collectors parse them), or lines for people. */
export const LOG_FORMATS = ['json', 'pretty'] as const;
/** A log format. */
export type LogFormat = (typeof LOG_FORMATS)[number];

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
// Fields every line has, shown in the line's head rather than as key=value.
const HEAD = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'component']);

/**
 * One pino JSON line as a line for people: `2026-12-05T10:20:01.123Z INFO  okesu-cp/auth: message key=value …`,
 * then an error's stack indented below it. Values are made safe for a terminal (they carry host text). A line that is
 * not JSON is passed through, made safe.
 */
export function prettyLogLine(jsonLine: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(jsonLine) as Record<string, unknown>;
  } catch {
    return `${displayText(jsonLine.trimEnd())}\n`;
  }
  const time = typeof rec.time === 'number' ? new Date(rec.time).toISOString() : '';
  const level = LEVELS[rec.level as number] ?? String(rec.level);
  const who = [rec.name, rec.component].filter((x) => typeof x === 'string' && x !== '').join('/');
  const fields: string[] = [];
  let stack = '';
  for (const [k, v] of Object.entries(rec)) {
    if (HEAD.has(k) || v === undefined) continue;
    if (k === 'err' && v !== null && typeof v === 'object') {
      const err = v as { type?: string; message?: string; stack?: string };
      fields.push(`err=${JSON.stringify(`${err.type ?? 'Error'}: ${err.message ?? ''}`)}`);
      if (typeof err.stack === 'string') stack = err.stack.split('\n').slice(1).map((l) => `    ${displayText(l.trim())}`).join('\n');
      continue;
    }
    fields.push(`${k}=${typeof v === 'string' && /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v)}`);
  }
  const head = displayText(`${time} ${level} ${who}: ${typeof rec.msg === 'string' ? rec.msg : ''}${fields.length ? ` ${fields.join(' ')}` : ''}`);
  return `${head}\n${stack ? `${stack}\n` : ''}`;
}
