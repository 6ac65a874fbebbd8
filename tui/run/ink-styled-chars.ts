import { ansiCodesToString, diffAnsiCodes, reduceAnsiCodesIncremental, type AnsiCode, type StyledChar, type Token } from '@alcalzone/ansi-tokenize';

// Drop-in replacements for @alcalzone/ansi-tokenize's styledCharsFromTokens and styledCharsToString, which Ink's
// Output calls for every line of every frame; the console's bundle swaps them in (scripts/build.mjs,
// ink-shared-output-caches). Same output; what differs is the cost, measured under a 1,000 findings/s feed:
// - the library spreads each char token (`{ ...token, styles }`), which gives every styled char a map of its own in
//   V8 (a heap snapshot of the console held ~150,000 such maps and descriptor arrays, ~35 MB, for the lines Ink
//   keeps cached); here each is one literal of a fixed shape;
// - it copies the active styles for every char; here the chars between two ANSI codes share one array (none
//   of this code or Ink's changes a styles array);
// - writing a line diffs the styles of every pair of neighbouring cells (three Sets each); here a pair that shares
//   its styles array, or has none on either side, needs no diff (the diff of equal styles is empty).

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
