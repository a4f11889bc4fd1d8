// `node bench/audit-query.mjs [--records 1000000]`: how fast the audit query index answers over
// a million records. Builds an index.db of that many chained records (40 callers, 5,000 objects
// over 3 vaults, spread over 30 days; written straight into the index, as its sink would), then
// times the questions `coffer audit query` asks, each answered in full (all pages).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { EMPTY_CHAIN, linkRecord } from '../dist/src/audit/chain.js';
import { IndexDb } from '../dist/src/audit/index/index-db.js';

const { values } = parseArgs({ options: { records: { type: 'string', default: '1000000' } } });
const total = Number(values.records);
const dir = mkdtempSync(path.join(os.tmpdir(), 'coffer-audit-query-'));
const file = path.join(dir, 'index.db');
const db = new IndexDb(file);
const start = Date.parse('2026-11-01T00:00:00Z');
const span = 30 * 86_400_000;
const OPERATIONS = [
  'SecretGet',
  'SecretGet',
  'SecretGet',
  'SecretList',
  'SecretSet',
  'KeySign',
  'Authentication',
];

const t0 = Date.now();
let head = EMPTY_CHAIN;
let batch = [];
for (let index = 0; index < total; index++) {
  const caller = `00000000-0000-4000-8000-${String(index % 40).padStart(12, '0')}`;
  const vault = ['dev', 'prod', 'billing'][index % 3];
  const operation = OPERATIONS[index % OPERATIONS.length];
  const object = `secret-${(index * 7919) % 5000}`;
  const entry = linkRecord(
    {
      time: new Date(start + Math.floor((index / total) * span)).toISOString(),
      resourceId: `/vaults/${vault}`,
      operationName: operation,
      operationVersion: '7.6',
      category: 'AuditEvent',
      resultType: index % 50 === 0 ? 'Failure' : 'Success',
      resultSignature: index % 50 === 0 ? 'Forbidden' : 'OK',
      resultDescription: '',
      durationMs: 1,
      callerIpAddress: '10.0.0.1',
      correlationId: `c-${index}`,
      identity: {
        claim: {
          appid: `app-${index % 40}`,
          'http://schemas.microsoft.com/identity/claims/objectidentifier': caller,
        },
      },
      properties: {
        clientInfo: 'bench',
        httpStatusCode: index % 50 === 0 ? 403 : 200,
        id: `https://${vault}.vault.localhost/secrets/${object}`,
        requestUri: `https://${vault}.vault.localhost/secrets/${object}?api-version=7.6`,
      },
    },
    head,
  );
  head = entry.record;
  batch.push(entry.line);
  if (batch.length === 5000) {
    db.insert(batch, head.sequence);
    batch = [];
  }
}
if (batch.length > 0) db.insert(batch, head.sequence);
const loadS = (Date.now() - t0) / 1000;

const week = { since: start + 20 * 86_400_000, until: start + 27 * 86_400_000 };
const questions = {
  'who read secret-42 last week (object + operation + 7 days)': {
    objects: ['secrets/secret-42'],
    operation: 'SecretGet',
    ...week,
  },
  "one caller's requests last week": { caller: '00000000-0000-4000-8000-000000000007', ...week },
  "one vault's failures, all time": { resource: '/vaults/prod', result: 'Failure' },
  'one operation, all time (first 1,000)': { operation: 'KeySign', limit: 1000 },
  'tail: the latest 20': { order: 'desc', limit: 20 },
};
const rows = [];
for (const [name, question] of Object.entries(questions)) {
  const began = process.hrtime.bigint();
  let found = 0;
  let cursor;
  // Every page, as the CLI fetches them (1,000 per page), unless the question sets its own limit.
  for (;;) {
    const page = db.query({ order: 'asc', limit: 1000, ...question, cursor });
    found += page.length;
    if (question.limit || page.length < 1000) break;
    cursor = JSON.parse(page[page.length - 1]).sequence;
  }
  rows.push(`| ${name} | ${found} | ${(Number(process.hrtime.bigint() - began) / 1e6).toFixed(1)} |`);
}
db.close();
const size = statSync(file).size / 1024 / 1024;
rmSync(dir, { recursive: true, force: true });
process.stdout.write(
  [
    `${total.toLocaleString('en')} records indexed in ${loadS.toFixed(0)} s (chain + index, one thread); index.db ${size.toFixed(0)} MiB.`,
    '',
    '| question | records | ms |',
    '| -------- | ------: | -: |',
    ...rows,
    '',
  ].join('\n'),
);
