/** An agent file split into its YAML frontmatter and markdown body. */
export interface FrontmatterSplit {
  /** The YAML between the `---` lines, with `\n` line ends. */
  yaml: string;
  /** File line number (1-based) of the first YAML line; add `firstLine - 1` to a YAML line to get the file line. */
  firstLine: number;
  /** The markdown body after the closing `---`, without leading blank lines or trailing whitespace. */
  body: string;
}

/** Why a file could not be split; `line` is the 1-based file line to point at. */
export interface FrontmatterError {
  line: number;
  message: string;
}

const FENCE_RE = /^---[ \t]*$/;

/** Splits `---`-fenced YAML frontmatter from the body; the fence must be the file's first line. */
export function splitFrontmatter(text: string): { ok: true; split: FrontmatterSplit } | { ok: false; error: FrontmatterError } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (!FENCE_RE.test(lines[0] ?? '')) {
    return {
      ok: false,
      error: { line: 1, message: 'expected YAML frontmatter: the file must start with a --- line, then the fields, then another --- line' },
    };
  }
  const close = lines.findIndex((line, i) => i > 0 && FENCE_RE.test(line));
  if (close === -1) {
    return { ok: false, error: { line: 1, message: 'frontmatter is not closed: add a --- line after the fields' } };
  }
  const bodyLines = lines.slice(close + 1);
  while (bodyLines.length > 0 && (bodyLines[0] ?? '').trim() === '') bodyLines.shift();
  return {
    ok: true,
    split: { yaml: lines.slice(1, close).join('\n'), firstLine: 2, body: bodyLines.join('\n').trimEnd() },
  };
}
