import { Lexer, Parser } from 'yaml';
import { MAX_JSON_DEPTH } from '../protocol/json-value.js';

/** Structures the CST parser keeps open around any node: the stream and the document. */
const OUTER_LEVELS = 2;

/**
 * The offset at which `text` nests collections more than `limit` deep, or undefined. The yaml library composes
 * documents recursively: a few hundred levels (`- - - …`, `[[[…`, `{a: {a: …`) overflow the stack, and after one such
 * overflow a second one aborts the whole process inside V8's regexp compiler. Its CST parser is iterative and its
 * stack is exactly the open nesting, so it is run first, stopping at the first level too deep.
 */
export function yamlNestsDeeperThan(text: string, limit: number = MAX_JSON_DEPTH): number | undefined {
  const parser = new Parser();
  for (const lexeme of new Lexer().lex(text)) {
    const at = parser.offset;
    // The tokens themselves are not needed, only how deep the parser is once it has taken the lexeme.
    const tokens = parser.next(lexeme);
    while (!tokens.next().done);
    if (parser.stack.length > limit + OUTER_LEVELS) return at;
  }
  return undefined;
}
