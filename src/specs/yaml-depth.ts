import { Lexer, Parser } from 'yaml';
import { MAX_JSON_DEPTH } from '../protocol/json-value.js';

/** CST tokens that are a level of nesting (the parser's stack also holds the document and scalars being read). */
const COLLECTIONS: ReadonlySet<string> = new Set(['block-map', 'block-seq', 'flow-collection']);

/**
 * The offset at which `text` nests collections more than `limit` deep, or undefined. The yaml library composes
 * documents recursively: a few hundred levels (`- - - …`, `[[[…`, `{a: {a: …`) overflow the stack, and after one such
 * overflow a second one aborts the whole process inside V8's regexp compiler. Its CST parser is iterative and its
 * stack holds the open collections, so it runs first and stops at the first level too deep.
 */
export function yamlNestsDeeperThan(text: string, limit: number = MAX_JSON_DEPTH): number | undefined {
  const parser = new Parser();
  for (const lexeme of new Lexer().lex(text)) {
    const at = parser.offset;
    // The tokens themselves are not needed, only how deep the parser is once it has taken the lexeme.
    const tokens = parser.next(lexeme);
    while (!tokens.next().done);
    let depth = 0;
    for (const token of parser.stack) if (COLLECTIONS.has(token.type)) depth++;
    if (depth > limit) return at;
  }
  return undefined;
}
