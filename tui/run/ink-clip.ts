import sliceAnsi from 'slice-ansi';

// Ink's Output cuts every line written inside a box with `overflow="hidden"` (the console's view area) with
// slice-ansi, on every frame, even when the line lies wholly inside the box: slice-ansi then tokenizes the line only
// to give back the same characters with the same styles. That was ~40 % of a keypress's frame in the console (a
// profile of the bench's j/k/enter/esc/tab presses over 10,000 hosts). The console's bundle swaps this in for the call
// (scripts/build.mjs, ink-shared-output-caches): a line that needs no cut is kept as it is; any other goes through
// slice-ansi as before. What Ink draws from either is the same (test/tui/run/ink-clip.test.ts).

/** `line` cut to its columns `from`..`to` (`width` is its whole width), as Ink's Output cuts a clipped line. */
export function clipLine(line: string, from: number, to: number, width: number): string {
  return from <= 0 && to >= width ? line : sliceAnsi(line, from, to);
}
