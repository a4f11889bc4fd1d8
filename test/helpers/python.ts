import { execFile } from 'node:child_process';
import path from 'node:path';
import { type DevServer, repoRoot } from './server-process.js';

/** Debian's interpreter, where apt installs python3-azure (a pyenv or venv python would lack it). */
export const PYTHON = process.env.COFFER_TEST_PYTHON ?? '/usr/bin/python3';
const SCRIPTS = path.join(repoRoot, 'test', 'python');

/**
 * Runs one of test/python's scripts against a dev server (its dev.json and CA through the
 * environment); its JSON answer, or a failure with Python's traceback.
 */
export function runPython<T>(server: DevServer, script: string, ...args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(
      PYTHON,
      [path.join(SCRIPTS, script), ...args],
      {
        cwd: SCRIPTS,
        timeout: 60_000,
        env: {
          PATH: process.env.PATH,
          COFFER_DEV_DATA_DIR: server.dataDir,
          REQUESTS_CA_BUNDLE: server.facts.caFile,
        },
      },
      (error, stdout, stderr) => {
        if (error)
          reject(new Error(`python ${script} ${args[0] ?? ''} failed:\n${stderr}`, { cause: error }));
        else resolve(JSON.parse(stdout) as T);
      },
    );
  });
}

/** Runs one scenario of test/python/scenario.py against the server. */
export function pythonScenario<T>(server: DevServer, scenario: string, ...args: string[]): Promise<T> {
  return runPython<T>(server, 'scenario.py', scenario, ...args);
}
