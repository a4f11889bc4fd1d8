import { randomUUID } from 'node:crypto';
import { type Command, InvalidArgumentError } from 'commander';
import type { ApiClient } from '../api-client.js';
import { apiClientFor, outputFormat, parseInteger } from '../options.js';
import { asRecord, listItems, printResult, printText } from '../output.js';
import { renderProperties, renderTable } from '../table.js';
import { registerAuditVerifyCommand } from './audit-verify.js';
import { leaf } from './leaf.js';

/** `coffer audit ...`: query and follow the audit log through the server (docs/audit.md). */

const RECORDS = '/coffer/audit/records';
const PAGE = 1000;
const FOLLOW_POLL_MS = 1000;

interface Filters {
  since?: string;
  until?: string;
  vault?: string;
  operation?: string;
  caller?: string;
  result?: string;
  object?: string;
}

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('query, follow and verify the audit log');

  withFilters(
    leaf(audit, 'query', 'find audit records (oldest first)', async ({ command }) => {
      const options = command.opts<Filters & { limit: number }>();
      const records = await queryRecords(apiClientFor(command), filterParams(options), options.limit);
      printResult(outputFormat(command), records, () => renderRecords(records));
    }),
  ).option('--limit <n>', 'at most this many records (default 1000)', parseInteger(1, 10_000_000), 1000);

  withFilters(
    leaf(audit, 'tail', 'show the latest records; --follow keeps printing new ones', async ({ command }) => {
      const options = command.opts<Filters & { lines: number; follow?: boolean }>();
      await tail(command, options);
    }),
  )
    .option(
      '-n, --lines <n>',
      'how many of the latest records to show (default 20)',
      parseInteger(1, PAGE),
      20,
    )
    .option('-f, --follow', 'keep printing records as they are written (Ctrl-C to stop)');

  leaf(
    audit,
    'public-key',
    "print the server's checkpoint public key (for audit verify)",
    async ({ command }) => {
      const key = asRecord(await apiClientFor(command).call('GET', '/coffer/audit/public-key'));
      printResult(outputFormat(command), key, () => String(key['publicKeyPem'] ?? ''));
    },
  );

  leaf(
    audit,
    'hmac',
    'print how records show an object name when names are HMACed',
    async ({ command, operands }) => {
      const answer = asRecord(
        await apiClientFor(command).call('POST', '/coffer/audit/hmac', { name: operands[0] }),
      );
      printResult(outputFormat(command), answer, () =>
        renderProperties([
          ['Name', answer['name']],
          ['HMAC', answer['hmac']],
          [
            'Records use',
            answer['namesAreHmaced'] ? 'the HMAC' : 'the name (audit.hmacObjectNames is false)',
          ],
        ]),
      );
    },
  ).argument('<name>', 'a secret, key or certificate name');

  leaf(audit, 'status', 'show the spool, the sinks and how far behind each is', async ({ command }) => {
    const status = asRecord(await apiClientFor(command).call('GET', '/coffer/audit/status'));
    printResult(outputFormat(command), status, () => renderStatus(status));
  });

  registerAuditVerifyCommand(audit);
}

function withFilters(command: Command): Command {
  return command
    .option(
      '--since <time>',
      'from this time: ISO 8601 (2026-11-20, 2026-11-20T08:00Z) or back from now (30m, 24h, 7d)',
      (text: string) => parseTime(text),
    )
    .option('--until <time>', 'up to this time (same forms as --since)', (text: string) => parseTime(text))
    .option('--vault <name>', "only this vault's records")
    .option('--operation <name>', 'only this operation (SecretGet, KeySign, VaultPut, Authentication, ...)')
    .option('--caller <id>', 'only this caller: object id, client (app) id or user principal name')
    .option('--result <result>', 'Success, Failure or an HTTP status code (403)')
    .option(
      '--object <name>',
      'only records about this object: NAME or secrets/NAME, keys/NAME, certificates/NAME',
    );
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** An ISO 8601 time, or a duration back from now (`7d`), as an ISO string for the server. */
export function parseTime(text: string, nowMs = Date.now()): string {
  const relative = /^(\d{1,6})([smhdw])$/.exec(text.trim());
  if (relative) return new Date(nowMs - Number(relative[1]) * UNITS[relative[2]!]!).toISOString();
  const ms = Date.parse(text);
  if (!Number.isFinite(ms))
    throw new InvalidArgumentError(
      'Use an ISO 8601 date or time (2026-11-20, 2026-11-20T08:00Z) or a duration back from now (30m, 24h, 7d).',
    );
  return new Date(ms).toISOString();
}

function filterParams(options: Filters): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of ['since', 'until', 'vault', 'operation', 'caller', 'result', 'object'] as const) {
    const value = options[key];
    if (value !== undefined) params.set(key, value);
  }
  return params;
}

/**
 * Pages through the server's answers (oldest first) until `limit` records or the end, following
 * each nextLink: a lone server's pages on by sequence, one with workers by a continuation.
 */
async function queryRecords(
  api: ApiClient,
  params: URLSearchParams,
  limit: number,
): Promise<Record<string, unknown>[]> {
  const records: Record<string, unknown>[] = [];
  let link = `${RECORDS}?${params.toString()}`;
  while (records.length < limit) {
    const answer = await api.call('GET', withLimit(link, Math.min(PAGE, limit - records.length)));
    const items = listItems(answer);
    records.push(...items);
    const next = recordsLink(asRecord(answer)['nextLink']);
    if (!next || items.length === 0) return records;
    link = next;
  }
  process.stderr.write(`coffer: showing the first ${limit} records; pass a larger --limit to see more.\n`);
  return records;
}

/** A link the server gave to more records (only ever to this same API). */
function recordsLink(link: unknown): string | undefined {
  return typeof link === 'string' && link.startsWith(`${RECORDS}?`) ? link : undefined;
}

function withLimit(link: string, limit: number): string {
  const [pathname, query] = link.split('?', 2);
  const params = new URLSearchParams(query);
  params.set('limit', String(limit));
  return `${pathname}?${params.toString()}`;
}

async function tail(command: Command, options: Filters & { lines: number; follow?: boolean }): Promise<void> {
  const api = apiClientFor(command);
  const json = outputFormat(command).format === 'json';
  const params = filterParams(options);
  const latest = new URLSearchParams(params);
  latest.set('order', 'desc');
  latest.set('limit', String(options.lines));
  const first = await api.call('GET', `${RECORDS}?${latest.toString()}`);
  const records = listItems(first).reverse();
  if (!options.follow) {
    printResult(outputFormat(command), records, () => renderRecords(records));
    return;
  }
  // Following prints as records come: JSON lines, or one fixed-width line each.
  const show = (items: Record<string, unknown>[]) => {
    for (const record of items) printText(json ? JSON.stringify(record) : recordLine(record));
  };
  if (!json) printText(recordLine(undefined));
  show(records);
  // A lone server is followed by sequence; one with workers gives a followLink (one position per worker).
  let follow = recordsLink(asRecord(first)['followLink']);
  let after: unknown = records[records.length - 1]?.['sequence'] ?? 0;
  // This command's own polls are audited too: they are left out of what it prints.
  const session = `coffer-tail-${randomUUID()}`;
  for (let poll = 0; ; poll++) {
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
    const next = new URLSearchParams(params);
    next.set('after', String(after));
    const link = follow ?? `${RECORDS}?${next.toString()}`;
    const answer = await api.call('GET', withLimit(link, PAGE), undefined, {
      'x-ms-client-request-id': `${session}-${poll}`,
    });
    const items = listItems(answer);
    follow = recordsLink(asRecord(answer)['followLink']) ?? follow;
    if (items.length === 0) continue;
    after = items[items.length - 1]!['sequence'];
    show(items.filter((record) => !String(record['correlationId'] ?? '').startsWith(session)));
  }
}

const caller = (record: Record<string, unknown>) => {
  const claim = asRecord(asRecord(record['identity'])['claim']);
  return (
    claim['http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn'] ??
    claim['appid'] ??
    claim['http://schemas.microsoft.com/identity/claims/objectidentifier'] ??
    ''
  );
};

/** What a record is about: `secrets/name` for an object, else the vault or `/`. */
const subject = (record: Record<string, unknown>) => {
  const id = asRecord(record['properties'])['id'];
  const match = typeof id === 'string' ? /^https:\/\/[^/]+\/(.+)$/.exec(id) : null;
  return match?.[1] ?? record['resourceId'] ?? '';
};

const status = (record: Record<string, unknown>) => asRecord(record['properties'])['httpStatusCode'] ?? '';

function renderRecords(records: Record<string, unknown>[]): string {
  if (records.length === 0) return 'No audit records match.\n';
  return renderTable(
    ['Time', 'Vault', 'Operation', 'Status', 'Caller', 'Object', 'Address'],
    records.map((record) => [
      record['time'],
      String(record['resourceId'] ?? '').replace(/^\/vaults\//, ''),
      record['operationName'],
      status(record),
      caller(record),
      subject(record),
      record['callerIpAddress'],
    ]),
  );
}

function recordLine(record: Record<string, unknown> | undefined): string {
  const cells = record
    ? [record['time'], record['operationName'], status(record), caller(record), subject(record)]
    : ['Time', 'Operation', 'Status', 'Caller', 'Object'];
  const widths = [24, 26, 6, 38, 0];
  return cells
    .map((cell, index) => String(cell ?? '').padEnd(widths[index]!))
    .join(' ')
    .trimEnd();
}

function renderStatus(status: Record<string, unknown>): string {
  const sinks = Array.isArray(status['sinks']) ? status['sinks'].map(asRecord) : [];
  const outage = asRecord(status['outage']);
  return (
    renderProperties([
      ['Last record', status['headSequence']],
      ['Spool depth (records)', status['spoolDepth']],
      ['Spool segments', status['spoolSegments']],
      ['Spool writable', status['outage'] ? `no, since ${outage['since']} (${outage['code']})` : 'yes'],
      ['Requests refused', status['refusedRequests']],
      ['Records lost', status['lostRecords']],
    ]) +
    '\n' +
    renderTable(
      ['Sink', 'Delivered through', 'Lag', 'Last error'],
      sinks.map((sink) => [sink['name'], sink['deliveredThrough'], sink['lag'], sink['lastError']]),
    )
  );
}
