// Per-thread CPU of a process (/proc/PID/task/*/stat): which thread (event loop, libuv pool,
// audit index, RSA workers) a scenario's CPU goes to.
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** {`name tid`: seconds of utime+stime} for every thread alive now. */
export function threadCpu(pid) {
  const out = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      out[`${name} ${tid}`] = (Number(fields[11]) + Number(fields[12])) / TICKS;
      if (process.env.THREADS_SPLIT) out[`${name} ${tid} stime`] = Number(fields[12]) / TICKS;
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** CPU per 1,000 requests of each thread between two threadCpu readings, busiest first. */
export function threadCpuPer1000(before, after, requests) {
  return Object.entries(after)
    .map(([thread, seconds]) => [thread, ((seconds - (before[thread] ?? 0)) / requests) * 1000])
    .filter(([, perK]) => perK > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([thread, perK]) => ({ thread, cpuSecondsPer1000: Math.round(perK * 10000) / 10000 }));
}
