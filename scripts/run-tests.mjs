#!/usr/bin/env node
// Runs every compiled test (dist/**/*.test.js) with Node's test runner.
// Servers started by end-to-end tests make their TLS certificates from one shared test CA,
// created here first, because NODE_EXTRA_CA_CERTS is read only when a process starts.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const scratch = path.join(root, '.test-tmp');
rmSync(scratch, { recursive: true, force: true });
mkdirSync(scratch, { recursive: true });

const { ensureDevTls } = await import(path.join(root, 'dist/src/tls/dev-tls.js'));
const caSeed = path.join(scratch, 'ca-seed');
const { caFile } = await ensureDevTls(caSeed, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });

function findTests(dir) {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return findTests(full);
    return entry.endsWith('.test.js') ? [full] : [];
  });
}

const filter = process.argv[2];
const files = findTests(path.join(root, 'dist'))
  .filter((file) => !filter || file.includes(filter))
  .sort();
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
process.exit(result.status ?? 1);
