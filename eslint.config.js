// Lint rules: the recommended sets of ESLint and typescript-eslint, plus what this codebase
// relies on (no `any`, no floating promises in a server that must not crash on a rejection).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'dist-*/**',
      'node_modules/**',
      '.coffer-dev/**',
      '.bench-backup-*/**',
      '.test-tmp/**',
      'bench/results/**',
      '.sdk-newest/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // node:test's describe() and it() return promises the runner itself awaits.
    files: [
      '**/*.test.ts',
      'src/storage/storage-suite.ts',
      'src/storage/row-cache-suite.ts',
      'src/storage/cluster-suite.ts',
    ],
    rules: { '@typescript-eslint/no-floating-promises': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    // The web console's one browser script.
    files: ['src/ui/assets/*.js'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly' } },
  },
);
