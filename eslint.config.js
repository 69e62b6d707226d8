// Type-aware lint with the architecture's import boundaries enforced (STYLE.md, "Dependency direction").
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

const nodeIo = ['node:*', 'fs', 'path', 'os', 'child_process', 'net', 'http', 'https', 'crypto', 'worker_threads'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/results/**', 'models/**', 'vigil-data/**', '**/*.js', '!eslint.config.js'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver': { typescript: false, node: true } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      'import-x/no-cycle': 'error',
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            { target: './src/domain', from: ['./src/ports', './src/workflows', './src/adapters', './src/http', './src/cli', './src/config', './src/logging', './src/main.ts'], message: 'domain/ is pure: it imports nothing outside domain/.' },
            { target: './src/ports', from: ['./src/workflows', './src/adapters', './src/http', './src/cli', './src/config', './src/logging', './src/main.ts'], message: 'ports/ import only domain/.' },
            { target: './src/workflows', from: ['./src/adapters', './src/http', './src/cli', './src/main.ts'], message: 'workflows/ use ports, never adapters.' },
            { target: './src/adapters', from: ['./src/workflows', './src/http', './src/cli', './src/main.ts'], message: 'adapters/ implement ports; they do not call workflows or the edges.' },
            { target: ['./src/cli', './src/http'], from: ['./src/adapters'], message: 'The edges get adapters from main.ts, the composition root.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/domain/**/*.ts'],
    ignores: ['src/domain/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: nodeIo, message: 'domain/ does no I/O: pass data in through a port.' }, { group: ['dcmjs', 'dcmjs-codecs', 'sharp', 'onnxruntime-node', 'better-sqlite3', 'pino'], message: 'domain/ imports no adapter library.' }] }],
      'no-restricted-globals': ['error', { name: 'process', message: 'domain/ reads no environment.' }, { name: 'Date', message: 'Pass a Clock in.' }],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'Pass a seeded random source in.' }, { object: 'Date', property: 'now', message: 'Pass a Clock in.' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/adapters/dicom-dcmjs/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: 'dcmjs', message: 'Only adapters/dicom-dcmjs imports dcmjs.' }, { name: 'dcmjs-codecs', message: 'Only adapters/dicom-dcmjs imports dcmjs-codecs.' }] }] },
  },
);
