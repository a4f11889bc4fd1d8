// Readings from /proc and the file system: process CPU time and memory, directory sizes, and
// a description of the machine for the results file.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** Fields of /proc/PID/stat after the command name, which may itself hold spaces. */
function statFields(text) {
  return text
    .slice(text.lastIndexOf(')') + 2)
    .trim()
    .split(/\s+/);
}

/** utime + stime of a live process, in seconds (fields 14 and 15 of /proc/PID/stat). */
export function cpuSeconds(pid) {
  const fields = statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/**
 * utime + stime of a process and every live descendant (`coffer server --workers N` is a
 * supervisor and N workers; a reference server may fork too), in seconds. A process that exits
 * during a measurement takes its CPU with it, so measure only trees that stay up.
 */
export function treeCpuSeconds(pid) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fields;
    try {
      fields = statFields(readFileSync(`/proc/${entry}/stat`, 'utf8'));
    } catch {
      continue; // gone between the listing and the read
    }
    const parent = Number(fields[1]);
    const cpu = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push({ pid: Number(entry), cpu });
  }
  let total = cpuSeconds(pid);
  const pending = [pid];
  while (pending.length > 0) {
    for (const child of children.get(pending.pop()) ?? []) {
      total += child.cpu;
      pending.push(child.pid);
    }
  }
  return total;
}

/** cutime + cstime from a stat line: the CPU of the children a shell has waited for. */
export function childCpuSecondsFromStat(statLine) {
  const fields = statFields(statLine);
  return (Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND;
}

/** Resident set size now and at its peak, in MiB. */
export function memoryMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { rssMiB: round(kib('VmRSS') / 1024), peakRssMiB: round(kib('VmHWM') / 1024) };
}

/** Bytes used by the files under a directory (apparent sizes, recursive). */
export function dirBytes(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? dirBytes(full) : statSync(full).size;
  }
  return total;
}

export function machineInfo() {
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
    openssl: process.versions.openssl,
  };
}

export function round(value, digits = 2) {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
