// One measurement: drive a target at a concurrency for a duration and charge the server
// process's CPU time, its workers' included (from /proc), to the requests served.
import { round, treeCpuSeconds } from './proc.mjs';
import { runWrk } from './wrk.mjs';
import { runNodeLoad } from './node-load.mjs';

/** options: {connections, durationS, loadgen: 'wrk'|'node', ca, serverPid}. */
export async function measure(target, options) {
  const before = treeCpuSeconds(options.serverPid);
  const run = options.loadgen === 'wrk' ? await runWrk(target, options) : await runNodeLoad(target, options);
  const serverCpu = treeCpuSeconds(options.serverPid) - before;
  return {
    loadgen: run.loadgen,
    requests: run.requests,
    errors: run.non2xx + run.sockErrors,
    rps: round(run.rps, 1),
    p50Ms: round(run.p50Ms, 3),
    p99Ms: round(run.p99Ms, 3),
    cpuSecondsPer1000: run.requests > 0 ? round((serverCpu / run.requests) * 1000, 4) : null,
    serverCpuShare: round(serverCpu / run.durationS, 3),
    loadgenCpuShare: round(run.loadgenCpuSeconds / run.durationS, 3),
  };
}
