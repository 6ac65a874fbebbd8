import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** One import in our source: the importing file, the specifier as written, and what it resolves to. */
export interface ImportEdge {
  /** The importing file, relative to the repository root, with `/` separators. */
  from: string;
  /** The specifier as written: `./x.js`, `node:fs`, `ws`. */
  specifier: string;
  /** Our file it names (relative to the root, `.ts`/`.tsx`), or null for a package or a built-in. */
  target: string | null;
  /** `type`: erased at build (`import type`, `export type`, `import('x').T`); `dynamic`: `import('x')` at run time. */
  kind: ImportKind;
  /** 1-based line of the import, for failure messages. */
  line: number;
}

/** How an import reaches its module: evaluated with the importer, on use, or never (types only). */
export type ImportKind = 'static' | 'dynamic' | 'type';

const sourceExt = /\.(ts|tsx)$/;

/** Every `.ts`/`.tsx` file under `dirs` (relative to `root`), skipping declaration files. */
export function sourceFiles(root: string, dirs: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (sourceExt.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(path);
    }
  };
  for (const dir of dirs) walk(dir);
  return out.sort();
}

/**
 * The imports of one file: `import … from`, `import '…'`, `export … from`, `import('…')` and `import('…').T` types
 * with a literal specifier. Relative specifiers resolve to our files the way NodeNext does: `./x.js` names `./x.ts`
 * or `./x.tsx`. `import { type A } from` counts as static: under verbatimModuleSyntax it still loads the module.
 */
export function importsOf(root: string, file: string): ImportEdge[] {
  const text = readFileSync(join(root, file), 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const edges: ImportEdge[] = [];
  const add = (literal: ts.Node | undefined, kind: ImportKind): void => {
    if (!literal || !ts.isStringLiteralLike(literal)) return;
    const specifier = literal.text;
    edges.push({
      from: file,
      specifier,
      target: specifier.startsWith('.') ? resolveRelative(root, file, specifier) : null,
      kind,
      line: source.getLineAndCharacterOfPosition(literal.getStart(source)).line + 1,
    });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) add(node.moduleSpecifier, node.importClause?.isTypeOnly ? 'type' : 'static');
    else if (ts.isExportDeclaration(node)) add(node.moduleSpecifier, node.isTypeOnly ? 'type' : 'static');
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression, node.isTypeOnly ? 'type' : 'static');
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node.arguments[0], 'dynamic');
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal, 'type');
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

function resolveRelative(root: string, file: string, specifier: string): string {
  const abs = resolve(root, dirname(file), specifier);
  const rel = relative(root, abs).split(sep).join('/');
  if (!/\.(js|jsx)$/.test(rel)) return rel;
  const base = rel.replace(/\.jsx?$/, '');
  return existsSync(join(root, `${base}.ts`)) ? `${base}.ts` : `${base}.tsx`;
}

/** All imports of all source files under `dirs`. */
export function importGraph(root: string, dirs: readonly string[]): ImportEdge[] {
  return sourceFiles(root, dirs).flatMap((file) => importsOf(root, file));
}

/** Every file and package `entry` evaluates when it loads: its static imports, transitively (not `import()`, not types). */
export function staticClosure(edges: readonly ImportEdge[], entry: string): Set<string> {
  const byFile = new Map<string, ImportEdge[]>();
  for (const edge of edges) byFile.set(edge.from, [...(byFile.get(edge.from) ?? []), edge]);
  const seen = new Set<string>([entry]);
  const queue = [entry];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    for (const edge of byFile.get(file) ?? []) {
      if (edge.kind !== 'static') continue;
      const next = edge.target ?? edge.specifier;
      if (seen.has(next)) continue;
      seen.add(next);
      if (edge.target) queue.push(edge.target);
    }
  }
  return seen;
}
