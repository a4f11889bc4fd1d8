#!/usr/bin/env node
// Runs every compiled test (dist/**/*.test.js) with Node's test runner.
// Servers started by end-to-end tests make their TLS certificates from one shared test CA,
// created here first, because NODE_EXTRA_CA_CERTS is read only when a process starts.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Each run gets its own scratch dir, so two runs at once never delete each other's servers.
mkdirSync(path.join(root, '.test-tmp'), { recursive: true });
const scratch = mkdtempSync(path.join(root, '.test-tmp', 'run-'));

// COFFER_DIST lets a second compilation (tsc --outDir dist-x) run its tests beside dist/.
const dist = path.resolve(root, process.env.COFFER_DIST ?? 'dist');
const { ensureDevTls } = await import(path.join(dist, 'src/tls/dev-tls.js'));
const caSeed = path.join(scratch, 'ca-seed');
const { caFile } = await ensureDevTls(caSeed, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });

function findTests(dir) {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return findTests(full);
    return entry.endsWith('.test.js') ? [full] : [];
  });
}

// Any number of filters: a test runs when its path contains one of them (`npm run test:faults`).
const filters = process.argv.slice(2);
const files = findTests(dist)
  .filter(
    (file) => filters.length === 0 || filters.some((filter) => path.relative(dist, file).includes(filter)),
  )
  .sort();
// `node --test` with no file would run every test file under the working directory instead.
if (files.length === 0) {
  console.error(
    `no compiled test matches '${filters.join("' or '")}' under ${dist}; run \`npm run build\` first?`,
  );
  rmSync(scratch, { recursive: true, force: true });
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], {
  stdio: 'inherit',
  cwd: root,
  env: {
    ...process.env,
    NODE_EXTRA_CA_CERTS: caFile,
    COFFER_TEST_CA_DIR: path.dirname(caFile),
    COFFER_TEST_TMP: scratch,
  },
});
// Keep a failed run's data dirs for inspection; a passing run cleans up after itself.
if (result.status === 0) rmSync(scratch, { recursive: true, force: true });
process.exit(result.status ?? 1);
