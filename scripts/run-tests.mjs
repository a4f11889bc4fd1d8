#!/usr/bin/env node
// Runs every compiled test (dist/**/*.test.js) with Node's test runner.
// Servers started by end-to-end tests make their TLS certificates from one shared test CA,
// created here first, because NODE_EXTRA_CA_CERTS is read only when a process starts.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
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
/**
 * The suites whose subject is the Azure SDKs' wire behaviour: run a second time against the
 * newest SDK releases (scripts/install-newest-sdks.mjs), so a new release that breaks against
 * Coffer shows up here. The other suites use the SDK only as a convenient client.
 */
const SDK_WIRE_SUITES = [
  'test/quick-start',
  'test/auth.e2e',
  'test/wire-compat',
  'test/secrets',
  'test/keys',
  'test/certificates',
  // Resource Manager through KeyVaultManagementClient, and managed identity through
  // DefaultAzureCredential: issue 12 promises both to the clients people install today.
  'test/arm',
  'test/managed-identity',
];
/**
 * Issue 15: the e2e suites pass with `--workers 2`. These run a second time with every dev server
 * started as two workers sharing the listener (COFFER_TEST_WORKERS, test/helpers/server-process.ts).
 */
const WORKERS_SUITES = [
  'test/secrets.e2e',
  'test/keys.e2e',
  'test/certificates.e2e',
  'test/rbac.e2e',
  'test/identity-credentials.e2e',
  'test/identity-users.e2e',
];
const newestDir = path.resolve(root, process.env.COFFER_NEWEST_SDK_DIR ?? '.sdk-newest');

/** Runs compiled test files; with sdkDir, the Azure SDK packages they import come from that install. */
function runTests(testFiles, sdkDir, extraEnv = {}) {
  const hook = sdkDir ? ['--import', path.join(root, 'scripts', 'sdk-from-dir.mjs')] : [];
  const result = spawnSync(process.execPath, [...hook, '--test', '--test-concurrency=2', ...testFiles], {
    stdio: 'inherit',
    cwd: root,
    env: {
      ...process.env,
      NODE_EXTRA_CA_CERTS: caFile,
      COFFER_TEST_CA_DIR: path.dirname(caFile),
      COFFER_TEST_TMP: scratch,
      ...(sdkDir ? { COFFER_SDK_DIR: sdkDir } : {}),
      ...extraEnv,
    },
  });
  return result.status ?? 1;
}

/** Where `@azure/keyvault-secrets` resolves from with the hook on: proves the second pass uses the other install. */
function resolvedSecretsPackage(sdkDir) {
  const probe = spawnSync(
    process.execPath,
    [
      '--import',
      path.join(root, 'scripts', 'sdk-from-dir.mjs'),
      '--input-type=module',
      '-e',
      "console.log(import.meta.resolve('@azure/keyvault-secrets'))",
    ],
    { cwd: path.join(dist, 'test'), encoding: 'utf8', env: { ...process.env, COFFER_SDK_DIR: sdkDir } },
  );
  return fileURLToPath(probe.stdout.trim() || 'file:///unresolved');
}

function runNewestSdkPass() {
  if (!existsSync(path.join(newestDir, 'node_modules'))) {
    console.log(
      `# newest-SDK pass skipped: ${path.relative(root, newestDir)}/ is absent (node scripts/install-newest-sdks.mjs makes it; CI does)`,
    );
    return 0;
  }
  const resolved = resolvedSecretsPackage(newestDir);
  if (!resolved.startsWith(newestDir + path.sep)) {
    console.error(
      `the newest-SDK pass would not use ${newestDir}: @azure/keyvault-secrets resolves to ${resolved}`,
    );
    return 1;
  }
  const { dependencies } = JSON.parse(readFileSync(path.join(newestDir, 'package.json'), 'utf8'));
  console.log(`# newest-SDK pass: ${JSON.stringify(dependencies)}`);
  const suites = files.filter((file) =>
    SDK_WIRE_SUITES.some((suite) => path.relative(dist, file).startsWith(suite)),
  );
  return runTests(suites, newestDir);
}

let status = runTests(files, process.env.COFFER_SDK_DIR);
// A full run (no filter) also runs the SDK wire suites against the newest SDK releases.
if (status === 0 && filters.length === 0 && !process.env.COFFER_SDK_DIR) status = runNewestSdkPass();
if (status === 0 && filters.length === 0 && !process.env.COFFER_TEST_WORKERS) {
  console.log('# workers pass: the main e2e suites against `coffer server --workers 2`');
  const suites = files.filter((file) =>
    WORKERS_SUITES.some((suite) => path.relative(dist, file).startsWith(suite)),
  );
  status = runTests(suites, process.env.COFFER_SDK_DIR, { COFFER_TEST_WORKERS: '2' });
}
// Keep a failed run's data dirs for inspection; a passing run cleans up after itself.
if (status === 0) rmSync(scratch, { recursive: true, force: true });
process.exit(status);
