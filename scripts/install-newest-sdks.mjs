#!/usr/bin/env node
// Installs the newest releases (npm's `latest`) of the Azure SDK packages the end-to-end suites
// use into .sdk-newest/, beside the pinned ones, so `npm test` also runs the suites that exercise
// the SDKs' wire behaviour against what users get today (scripts/run-tests.mjs). Newest releases
// may declare a newer Node in `engines` than they need; the suites say whether they run on this one.
// Needs the npm registry: run it after `npm ci` (.ci/run does), never from `npm test`.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGES = [
  '@azure/identity',
  '@azure/arm-keyvault',
  '@azure/keyvault-secrets',
  '@azure/keyvault-keys',
  '@azure/keyvault-certificates',
];
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, '.sdk-newest');
const npm = (args, cwd = root) =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();

const dependencies = Object.fromEntries(
  PACKAGES.map((name) => [name, npm(['view', `${name}@latest`, 'version'])]),
);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
writeFileSync(
  path.join(dir, 'package.json'),
  `${JSON.stringify({ private: true, description: 'newest Azure SDKs for the tests', dependencies }, null, 2)}\n`,
);
npm(
  ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--engine-strict=false', '--loglevel=error'],
  dir,
);
console.log(`newest Azure SDKs in ${path.relative(root, dir)}/: ${JSON.stringify(dependencies)}`);
