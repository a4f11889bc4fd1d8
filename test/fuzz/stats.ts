import type { FuzzResponse } from './client.js';
import type { FuzzRequest } from './requests.js';

/** What the fuzzer sent and what came back, counted for the report at the end of a run. */
export class FuzzStats {
  readonly byStatus = new Map<number, number>();
  readonly byFamily = new Map<string, Map<string, number>>();
  readonly byAuth = new Map<string, number>();
  /** Routes that were sent at least one request. */
  readonly requested = new Set<string>();
  /** Routes that answered at least once with 2xx: the handler ran to the end. */
  readonly succeeded = new Set<string>();
  /** Routes that answered at least once with a 4xx past authorization (not 401, 403 or 429). */
  readonly refusedPastAuthorization = new Set<string>();
  sent = 0;
  /** Answers after which the connection broke (accepted only for Node's own answers to a HEAD). */
  broken = 0;
  slowestMs = 0;
  slowest = '';

  record(request: FuzzRequest, response: FuzzResponse): void {
    this.sent++;
    this.requested.add(request.route);
    if (response.broken !== undefined) this.broken++;
    bump(this.byStatus, response.status);
    const family = this.byFamily.get(request.family) ?? new Map<string, number>();
    this.byFamily.set(request.family, family);
    bump(family, statusClass(response.status));
    bump(this.byAuth, request.auth.startsWith('garbage:') ? 'garbage' : request.auth.replace(/-\d+$/, ''));
    if (response.status < 300) this.succeeded.add(request.route);
    else if (![401, 403, 429].includes(response.status)) this.refusedPastAuthorization.add(request.route);
    if (response.ms > this.slowestMs) {
      this.slowestMs = response.ms;
      this.slowest = `${request.method} ${request.target.slice(0, 120)}`;
    }
  }

  share(status: number): number {
    return (this.byStatus.get(status) ?? 0) / Math.max(1, this.sent);
  }

  report(routeCount: number): string {
    const statuses = [...this.byStatus.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, count]) => `${status}: ${count}`)
      .join(', ');
    const families = [...this.byFamily.entries()]
      .map(
        ([family, counts]) => `${family} {${[...counts.entries()].map(([k, v]) => `${k}: ${v}`).join(', ')}}`,
      )
      .join('; ');
    const auths = [...this.byAuth.entries()].map(([auth, count]) => `${auth}: ${count}`).join(', ');
    return [
      `requests: ${this.sent}; statuses: ${statuses}`,
      `by family: ${families}`,
      `by authorization: ${auths}`,
      `routes (of ${routeCount}) answered 2xx: ${this.succeeded.size}; refused past authorization: ${this.refusedPastAuthorization.size}`,
      `slowest answer: ${Math.round(this.slowestMs)} ms (${this.slowest})`,
      `HEAD requests answered by Node's HTTP layer with a body (known, docs/security.md): ${this.broken}`,
    ].join('\n');
  }
}

function bump<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

const statusClass = (status: number) => `${Math.floor(status / 100)}xx`;
