/** One problem in a spec file, located at the offending value (1-based line and column of the file). */
export interface SpecError {
  source: string;
  line: number;
  column: number;
  /** Dotted path of the field, e.g. `collectors.0.timeout`; empty when the problem is not about one field. */
  field: string;
  message: string;
}

/** Formats an error the way compilers do: `file.md:3:5: provider: expected one of claude, codex, custom`. */
export function formatSpecError(e: SpecError): string {
  return `${e.source}:${e.line}:${e.column}: ${e.field ? `${e.field}: ` : ''}${e.message}`;
}
