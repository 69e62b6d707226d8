// Type-aware lint with the architecture's import boundaries enforced (STYLE.md, "Dependency direction").
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import reactHooks from 'eslint-plugin-react-hooks';

/** Each library that touches the outside world has one home (or a few, listed); nothing else imports it. */
const OWNERS = {
  dcmjs: 'src/adapters/dicom-dcmjs',
  'dcmjs-codecs': 'src/adapters/dicom-dcmjs',
  'dcmjs-dimse': 'src/adapters/dimse-dcmjs',
  sharp: 'src/adapters/image-sharp',
  'onnxruntime-node': 'src/adapters/onnx-runtime',
  'better-sqlite3': 'src/adapters/store-sqlite',
  pg: 'src/adapters/store-postgres',
  // .npz members, and release evidence packs (zip).
  fflate: ['src/adapters/dataset-medmnist', 'src/adapters/release-fs'],
  pino: 'src/logging',
  vega: 'src/adapters/charts-vega',
  'vega-lite': 'src/adapters/charts-vega',
  fastify: 'src/http',
  '@fastify/swagger': 'src/http',
  '@fastify/cookie': 'src/http',
  '@fastify/static': 'src/http',
  'fastify-type-provider-zod': 'src/http',
  // The browser dashboard's libraries: nothing on the server side renders React.
  react: 'dashboard',
  'react-dom': 'dashboard',
  recharts: 'dashboard',
  'react-markdown': 'dashboard',
  'remark-gfm': 'dashboard',
};
const ownersOf = (owner) => (Array.isArray(owner) ? owner : [owner]);
const OWNER_DIRS = [...new Set(Object.values(OWNERS).flatMap(ownersOf))];
const librariesNotOwnedBy = (dir) =>
  Object.entries(OWNERS)
    .filter(([, owner]) => !ownersOf(owner).includes(dir))
    .map(([name, owner]) => ({ name, message: `Only ${ownersOf(owner).join('/, ')}/ imports ${name}: use its port.` }));
const NODE_IO = ['node:*', 'fs', 'fs/*', 'path', 'os', 'child_process', 'net', 'http', 'https', 'crypto', 'worker_threads', 'zlib'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/**', 'scripts/**', 'models/**', 'vigil-data/**', '**/*.js', '**/*.mjs'] },
  // Outputs of the documented commands run in the checkout (as in .gitignore).
  { ignores: ['reports/**', 'deid/**', 'deid-media/**', 'models-local/**', 'my-pngs/**'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })] },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './src/domain',
              from: [
                './src/ports',
                './src/workflows',
                './src/adapters',
                './src/http',
                './src/cli',
                './src/config',
                './src/logging',
                './src/main.ts',
                './src/composition',
              ],
              message: 'domain/ is pure: it imports nothing outside domain/.',
            },
            {
              target: './src/ports',
              from: ['./src/workflows', './src/adapters', './src/http', './src/cli', './src/config', './src/logging', './src/main.ts', './src/composition'],
              message: 'ports/ import only domain/.',
            },
            {
              target: './src/workflows',
              from: ['./src/adapters', './src/http', './src/cli', './src/config', './src/logging', './src/main.ts', './src/composition'],
              message: 'workflows/ use ports, never adapters.',
            },
            {
              target: './src/adapters',
              from: ['./src/workflows', './src/http', './src/cli', './src/main.ts', './src/composition'],
              message: 'adapters/ implement ports; they do not call workflows or the edges.',
            },
            {
              target: ['./src/cli', './src/http'],
              from: ['./src/adapters', './src/main.ts', './src/composition'],
              message: 'The edges get their services from the composition root (main.ts, composition/).',
            },
            {
              target: './src/http/routes',
              from: './src/http/create-http-app.ts',
              message:
                'A route plugin takes what it uses as options and shared route types from http/route-config.ts; importing the app is a cycle (type-only too).',
            },
          ],
        },
      ],
    },
  },
  // Library ownership, one block per zone so the rule's options are never overridden by another block.
  {
    files: ['src/**/*.ts', 'test/**/*.ts'],
    ignores: [...OWNER_DIRS.map((dir) => `${dir}/**`), 'src/domain/**', 'test/**'],
    rules: { 'no-restricted-imports': ['error', { paths: librariesNotOwnedBy(undefined) }] },
  },
  ...OWNER_DIRS.map((dir) => ({
    files: [`${dir}/**/*.ts`, `${dir}/**/*.tsx`],
    rules: { 'no-restricted-imports': ['error', { paths: librariesNotOwnedBy(dir) }] },
  })),
  {
    // The dashboard is a browser bundle: from the server it takes the API contract as types only, and
    // the pure role table (so that its menus and the server's access checks cannot disagree).
    files: ['dashboard/**/*.ts', 'dashboard/**/*.tsx'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      // The rules of hooks (call order, effect dependencies), as React's own lint states them.
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './dashboard',
              from: './src',
              // Pure domain rules the dashboard must apply exactly as the server does: the role table, and
              // the precision a calibrated probability may be shown at.
              except: ['./http/contract.ts', './domain/access/roles.ts', './domain/calibration/display-probability.ts'],
              message: 'The dashboard talks to the server over HTTP: it imports only the contract (types), the role table and the probability display rule.',
            },
          ],
        },
      ],
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/src/http/*'], allowTypeImports: true, message: 'Import the API contract with `import type`.' }] },
      ],
    },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: librariesNotOwnedBy(undefined), patterns: [{ group: NODE_IO, message: 'domain/ does no I/O: pass data in through a port.' }] },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'domain/ reads no environment.' },
        { name: 'Buffer', message: 'Use Uint8Array in domain/.' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'Pass a seeded random source in.' },
        { object: 'Date', property: 'now', message: 'Pass a Clock in.' },
      ],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Pass a Clock in.' }],
    },
  },
  {
    // Tests may take a real hash function from node:crypto to feed the pure code.
    files: ['src/domain/**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: librariesNotOwnedBy(undefined) }] },
  },
  {
    // Vitest's asymmetric matchers (expect.any, expect.stringMatching) are typed `any` by design.
    files: ['**/*.test.ts'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
);
