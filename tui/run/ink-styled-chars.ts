import {
  ansiCodesToString, diffAnsiCodes, reduceAnsiCodesIncremental, tokenize as tokenizeAny, type AnsiCode, type StyledChar, type Token,
} from '@alcalzone/ansi-tokenize';
import isFullwidthCodePoint from 'is-fullwidth-code-point';

// Drop-in replacements for @alcalzone/ansi-tokenize's tokenize, styledCharsFromTokens and styledCharsToString, which
// Ink's Output calls for every line of every frame; the console's bundle swaps them in (scripts/build.mjs,
// ink-shared-output-caches). Same output; what differs is the cost, measured under a 1,000 findings/s feed:
// - the library spreads each char token (`{ ...token, styles }`), which gives every styled char a map of its own in
//   V8 (a heap snapshot of the console held ~150,000 such maps and descriptor arrays, ~35 MB, for the lines Ink
//   keeps cached); here each is one literal of a fixed shape;
// - it copies the active styles for every char; here the chars between two ANSI codes share one array (none
//   of this code or Ink's changes a styles array);
// - writing a line diffs the styles of every pair of neighbouring cells (three Sets each); here a pair that shares
//   its styles array, or has none on either side, needs no diff (the diff of equal styles is empty);
// - tokenizing runs Intl.Segmenter over every line (grapheme clusters): the console's lines are ASCII, a few symbols
//   (● › ↑ … │ ⚠) and plain SGR codes, where every UTF-16 unit is a grapheme of its own, so such a line is read unit by
//   unit; any other line (surrogates, combining marks, other escapes) goes to the library. The first frame with the
//   loaded fleet spent ~40 % of its time in the library's tokenize (cold, every line new).

const NO_STYLES: AnsiCode[] = [];

/** The line's chars, each with the ANSI styles active at it. */
export function styledCharsFromTokens(tokens: Token[]): StyledChar[] {
  // reduceAnsiCodesIncremental returns a new array and never changes the one it is given: each can be shared.
  let styles: AnsiCode[] = NO_STYLES;
  const chars: StyledChar[] = [];
  for (const token of tokens) {
    if (token.type === 'ansi') styles = reduceAnsiCodesIncremental(styles, [token]);
    else chars.push({ type: 'char', value: token.value, fullWidth: token.fullWidth, styles });
  }
  return chars;
}

/** The chars back as a string, with the fewest ANSI codes between neighbours and every style closed at the end. */
export function styledCharsToString(chars: StyledChar[]): string {
  let out = '';
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i] as StyledChar;
    if (i === 0) {
      out += ansiCodesToString(char.styles);
    } else {
      const before = (chars[i - 1] as StyledChar).styles;
      if (before !== char.styles && (before.length > 0 || char.styles.length > 0)) out += ansiCodesToString(diffAnsiCodes(before, char.styles));
    }
    out += char.value;
    if (i === chars.length - 1 && char.styles.length > 0) out += ansiCodesToString(diffAnsiCodes(char.styles, []));
  }
  return out;
}

/**
 * Ranges of UTF-16 units that are each a whole grapheme whatever surrounds them: printable ASCII, Latin-1 to the
 * spacing modifiers (below the combining marks at U+0300), dashes to the ellipsis (below U+2028), the rest of general
 * punctuation before the invisible operators (U+2060), and letterlike symbols through arrows, box drawing, shapes,
 * dingbats and misc symbols (U+2100–U+2BFF). No grapheme-extending, joining or surrogate unit is in them.
 */
const SINGLE: readonly (readonly [number, number])[] = [[0x20, 0x7e], [0xa0, 0x2ff], [0x2010, 0x2027], [0x2030, 0x205e], [0x2100, 0x2bff]];
const isSingle = (unit: number): boolean => SINGLE.some(([from, to]) => unit >= from && unit <= to);

/** End codes by SGR code, as the library computes them (a handful of distinct codes). */
const endCodes = new Map<string, string>();
function ansiToken(code: string): AnsiCode {
  let endCode = endCodes.get(code);
  if (endCode === undefined) {
    const token = tokenizeAny(code)[0];
    endCode = token?.type === 'ansi' ? token.endCode : '';
    endCodes.set(code, endCode);
  }
  return { type: 'ansi', code, endCode };
}

/** The end of the plain SGR code (`ESC [ digits m`, no `;`) at `start`, or -1. */
function plainSgrEnd(line: string, start: number): number {
  if (line.charCodeAt(start + 1) !== 0x5b) return -1;
  for (let i = start + 2; i < line.length; i++) {
    const unit = line.charCodeAt(i);
    if (unit === 0x6d) return i > start + 2 ? i : -1;
    if (unit < 0x30 || unit > 0x39) return -1;
  }
  return -1;
}

/** The line's chars and ANSI codes, as the library's tokenize gives them. */
export function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  for (let i = 0; i < line.length; i++) {
    const unit = line.charCodeAt(i);
    if (unit === 0x1b) {
      const end = plainSgrEnd(line, i);
      if (end === -1) return tokenizeAny(line);
      tokens.push(ansiToken(line.slice(i, end + 1)));
      i = end;
    } else if (isSingle(unit)) {
      tokens.push({ type: 'char', value: line[i] as string, fullWidth: isFullwidthCodePoint(unit) });
    } else {
      return tokenizeAny(line);
    }
  }
  return tokens;
}
