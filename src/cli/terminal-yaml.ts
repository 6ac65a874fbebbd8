import { Document, Scalar, visit } from 'yaml';

// The characters a terminal may act on that YAML would leave raw inside a string: C1 controls, bidi overrides and
// isolates, line and paragraph separators (C0 controls and DEL are escaped by YAML's double-quoted style already).
const RAW_UNSAFE = /[\u007F-\u009F\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/;
const RAW_UNSAFE_ALL = new RegExp(RAW_UNSAFE.source, 'g');
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001F]/;

/**
 * `value` as a YAML document that is exact (it parses back to the same value) and safe on a terminal: a string — value
 * or key — holding a control, bidi or separator character is written double-quoted, where that character becomes a
 * `\uXXXX` escape.
 */
export function terminalYaml(value: unknown): string {
  // JSON first: the same value `--json` prints (dates as strings, undefined fields dropped).
  const doc = new Document(JSON.parse(JSON.stringify(value ?? null)) as unknown);
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && (RAW_UNSAFE.test(node.value) || CONTROL.test(node.value))) node.type = Scalar.QUOTE_DOUBLE;
    },
  });
  // Only double-quoted scalars hold those characters now, and `\uXXXX` means the same character there.
  return doc.toString({ lineWidth: 0 }).replace(RAW_UNSAFE_ALL, (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`);
}
