import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'out/**', 'test/fixtures/**', '.vscode-test/**', 'test/bench/tmp*/**', 'test/e2e/out/**', 'dist-vsix/**', 'media/vendor/**', 'test/python/.venv/**', 'test/python/.venv-*/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'Only client/ may import vscode.' }] }],
    },
  },
  {
    files: ['server/src/**/*.ts'],
    ignores: ['server/src/lsp/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'Only client/ may import vscode.' }],
        patterns: [{ group: ['vscode-languageserver*'], message: 'Only server/src/lsp/ may import vscode-languageserver.' }],
      }],
    },
  },
  { files: ['client/**/*.ts', 'test/e2e/**/*.ts'], rules: { 'no-restricted-imports': 'off' } },
  { files: ['media/**/*.js'], languageOptions: { sourceType: 'script', globals: { window: 'readonly', document: 'readonly', acquireVsCodeApi: 'readonly', HTMLElement: 'readonly', HTMLInputElement: 'readonly', getComputedStyle: 'readonly', uPlot: 'readonly' } } },
  { files: ['bin/*.js'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } } },
  { files: ['**/*.js', '**/*.mjs'], languageOptions: { globals: { require: 'readonly', process: 'readonly', console: 'readonly', __dirname: 'readonly', setTimeout: 'readonly' } } },
  // Browser-side callbacks of the e2e (page.waitForFunction) run in the page.
  { files: ['test/e2e/**/*.mjs'], languageOptions: { globals: { document: 'readonly', getComputedStyle: 'readonly' } } },
);
