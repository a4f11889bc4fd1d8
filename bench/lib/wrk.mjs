// Runs wrk against 127.0.0.1 with bench/wrk/request.lua and returns its figures together with
// wrk's own CPU time (read from the wrapping shell's cutime/cstime once wrk has exited).
import { execFile, execFileSync } from 'node:child_process';
import { URL, fileURLToPath } from 'node:url';
import { childCpuSecondsFromStat } from './proc.mjs';

const SCRIPT = fileURLToPath(new URL('../wrk/request.lua', import.meta.url));

export function hasWrk() {
  try {
    execFileSync('wrk', ['-v'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    // wrk -v exits 1 after printing its version; only a missing binary is ENOENT.
    return error.code !== 'ENOENT';
  }
}

/**
 * target: {scheme, port, method, path, headers, body, randomMax}; connections, durationS.
 * A path holding "{n}" or "{r}" is expanded per request by the Lua script.
 */
export function runWrk(target, { connections, durationS }) {
  const threads = Math.min(connections, 2);
  const base = `${target.scheme ?? 'https'}://127.0.0.1:${target.port}`;
  const templated = /\{[nr]\}/.test(target.path);
  const seconds = Math.max(1, Math.round(durationS));
  const args = [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', SCRIPT];
  for (const [name, value] of Object.entries(target.headers ?? {})) args.push('-H', `${name}: ${value}`);
  args.push(templated ? `${base}/` : `${base}${target.path}`);
  const env = {
    ...process.env,
    BENCH_METHOD: target.method ?? 'GET',
    BENCH_BODY: target.body ?? '',
    BENCH_PATH: templated ? target.path : '',
    BENCH_RANDOM_MAX: String(target.randomMax ?? 1),
  };
  const shell = 'wrk "$@"; rc=$?; echo "WRKSTAT $(cat /proc/$$/stat)"; exit $rc';
  return new Promise((resolve, reject) => {
    execFile('sh', ['-c', shell, 'sh', ...args], { env, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      const result = /^RESULT (.*)$/m.exec(stdout);
      const stat = /^WRKSTAT (.*)$/m.exec(stdout);
      if (error || !result || !stat) {
        reject(new Error(`wrk failed: ${error?.message ?? ''} ${stderr} ${stdout}`.trim()));
        return;
      }
      const f = Object.fromEntries(
        result[1]
          .split(' ')
          .map((kv) => kv.split('='))
          .map(([k, v]) => [k, Number(v)]),
      );
      const seconds = f.duration_us / 1e6;
      resolve({
        loadgen: 'wrk',
        requests: f.requests,
        durationS: seconds,
        rps: f.requests / seconds,
        non2xx: f.non2xx,
        sockErrors: f.sock_errors,
        p50Ms: f.p50_us / 1000,
        p99Ms: f.p99_us / 1000,
        loadgenCpuSeconds: childCpuSecondsFromStat(stat[1]),
      });
    });
  });
}
