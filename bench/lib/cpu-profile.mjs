// Summarises a V8 .cpuprofile: self time per function (summed over the call tree), top first.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export function topSelfTime(file, count = 20) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const totals = new Map();
  let all = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const where = url ? `${path.relative(process.cwd(), url.replace('file://', ''))}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    totals.set(key, (totals.get(key) ?? 0) + us);
    all += us;
  }
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, us]) => ({
      name,
      selfMs: Math.round(us / 1000),
      share: Math.round((us / all) * 1000) / 10,
    }));
}

/**
 * Inclusive time per function (its own samples and those of everything it called, each sample
 * counted once per function even under recursion), top first: where a request's time goes.
 */
export function topInclusiveTime(file, count = 30) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const label = (node) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${path.relative(process.cwd(), url.replace('file://', ''))}:${lineNumber + 1}` : '';
    return `${functionName || '(anonymous)'} ${where}`.trim();
  };
  const totals = new Map();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    all += us;
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const key = label(byId.get(at));
      if (seen.has(key)) continue;
      seen.add(key);
      totals.set(key, (totals.get(key) ?? 0) + us);
    }
  });
  return [...totals]
    .filter(([name]) => !name.startsWith('(root)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, us]) => ({
      name,
      selfMs: Math.round(us / 1000),
      share: Math.round((us / all) * 1000) / 10,
    }));
}
