// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The dependency direction of docs/architecture.md, as far as import patterns can say it, so editors show a wrong
// import as it is typed. test/architecture.test.ts is the complete check (dynamic import(), resolved paths, what a
// process evaluates on start); keep the two in step.
const up = (dirs) => `^(\\.\\./)+(${dirs})/`;
const noTestOrBench = { regex: up('test|bench'), message: 'Source never imports test/ or bench/.' };
const restrict = (files, ...patterns) => ({
  files,
  rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [...patterns, noTestOrBench] }] },
});
const tuiApart = { regex: up('src/(cp|cli|lifecycle|deploy)|daimon'), message: 'tui/ never imports the CP, the daimon or the CLI.' };
const architecture = [
  restrict(
    ['src/protocol/**'],
    { regex: '^\\.\\./', message: 'src/protocol imports nothing of ours outside src/protocol.' },
    { regex: '^node:(?!crypto$)', message: 'src/protocol is pure: no IO built-ins (node:crypto only, for hashes).' },
    { regex: '^(?!zod$|node:|\\.)', message: 'src/protocol imports no package but zod.' },
  ),
  restrict(['src/transport/**', 'src/pki/**', 'src/files/**', 'src/release/**', 'src/metrics/**'], {
    regex: up('cp|cli|lifecycle|deploy|daimon|tui'),
    message: 'The shared layer (transport, pki, files, release, metrics) imports only itself and the pure layer.',
  }),
  restrict(['src/cp/**'], { regex: up('daimon|tui|cli|lifecycle|deploy'), message: 'src/cp never imports daimon/, tui/, src/cli, src/lifecycle or src/deploy.' }),
  restrict(['daimon/**'], { regex: up('src/(cp|cli|deploy)|tui'), message: 'daimon/ never imports src/cp, tui/, src/cli or src/deploy.' }),
  restrict(['tui/**'], tuiApart),
  restrict(['tui/components/**', 'tui/views/**', 'tui/keys/**'], tuiApart, {
    regex: '(^|/)(client/|transport/(operator|stream)-client\\.js$)',
    allowTypeImports: true,
    message: "Components, views and keys never load the console's client: take `actions` from context (types are fine).",
  }),
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/results/**', 'scripts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  { files: ['src/cli/output.ts', 'test/**', 'bench/**'], rules: { 'no-console': 'off' } },
  ...architecture,
);
