import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cofferBin, repoRoot } from './server-process.js';

// The `coffer` CLI as users and scripts run it: a child process whose environment carries no
// COFFER_* connection variable, no NODE_EXTRA_CA_CERTS and no profile of the machine's user, so
// the connection (and the CA to trust) comes only from what each test passes.

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface CliOptions {
  env?: Record<string, string>;
  input?: string;
  cwd?: string;
}

const INHERITED_CONNECTION = [
  'COFFER_URL',
  'COFFER_TENANT_ID',
  'COFFER_CLIENT_ID',
  'COFFER_CLIENT_SECRET',
  'COFFER_CA_FILE',
  'COFFER_BASE_DOMAIN',
  'COFFER_USERNAME',
  'COFFER_PASSWORD',
  'NODE_EXTRA_CA_CERTS',
  'XDG_CONFIG_HOME',
  'APPDATA',
];

/** A profile folder nobody has logged in to, unless a test passes its own COFFER_CONFIG_DIR. */
const NO_PROFILE = '/nonexistent/coffer-test-config';

export function cli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, COFFER_CONFIG_DIR: NO_PROFILE };
  for (const name of INHERITED_CONNECTION) delete env[name];
  Object.assign(env, options.env);
  const started = Date.now();
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [cofferBin, ...args],
      { cwd: options.cwd ?? repoRoot, env, timeout: 60_000, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}

/** A successful `--output json` run: exit 0, nothing on stderr, and stdout is one JSON document. */
export function parseJson<T>(result: CliResult): T {
  assert.equal(result.code, 0, `expected success, got exit ${result.code}: ${result.stderr}`);
  assert.equal(result.stderr, '', 'nothing on stderr on success');
  assert.ok(result.stdout.trim() !== '', 'a JSON document on stdout');
  return JSON.parse(result.stdout) as T;
}

export function assertSucceeded(result: CliResult): void {
  assert.equal(result.code, 0, `expected success, got exit ${result.code}: ${result.stderr}`);
  assert.equal(result.stderr, '', 'nothing on stderr on success');
}

/** A failure as the contract promises: non-zero exit, nothing on stdout, one `coffer: ...` line on stderr. */
export function assertOneLineFailure(result: CliResult, pattern: RegExp): string {
  assert.notEqual(result.code, 0, `expected a failure, got exit 0 with: ${result.stdout}`);
  assert.notEqual(result.code, null, 'the CLI exits by itself');
  assert.equal(result.stdout, '', 'nothing on stdout on failure');
  const lines = result.stderr.split('\n');
  assert.equal(lines.length, 2, `exactly one line on stderr, got: ${JSON.stringify(result.stderr)}`);
  assert.equal(lines[1], '', 'the line ends with a newline');
  const line = lines[0] ?? '';
  assert.match(line, /^coffer: /);
  assert.match(line, pattern);
  return line;
}
