// Starts a reference server (bench/ceiling-server.mjs, or bench/framework-server.mjs) as a child
// process and stops it again.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { URL, fileURLToPath } from 'node:url';

export const REFERENCE_SERVERS = {
  ceiling: fileURLToPath(new URL('../ceiling-server.mjs', import.meta.url)),
  framework: fileURLToPath(new URL('../framework-server.mjs', import.meta.url)),
};

/** `processes` (ceiling only): how many processes share the listener. */
export function startReference({ script, port, tlsDir, bodyBytes, processes = 1 }) {
  const args = [script, String(port), path.join(tlsDir, 'server.pem'), path.join(tlsDir, 'server-key.pem')];
  const child = spawn(process.execPath, [...args, String(bodyBytes), String(processes)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
    child.stdout.once('data', () => {
      resolve({
        pid: child.pid,
        port,
        stop: () =>
          new Promise((done) => {
            child.removeAllListeners('exit');
            child.once('exit', done);
            child.kill('SIGTERM');
          }),
      });
    });
  });
}
