import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SecretClient } from '@azure/keyvault-secrets';
import { canonicalJson } from '../src/audit/canonical.js';
import { eventually, logFiles, type Record } from './helpers/audit.js';
import { cofferCli, cofferJson, followAuditTail } from './helpers/coffer-cli.js';
import { fetchToken, rawRequest } from './helpers/http.js';
import {
  cofferBin,
  credentialFor,
  type DevServer,
  repoRoot,
  scratchDir,
  startDevServer,
} from './helpers/server-process.js';

// `coffer audit query|tail|hmac|public-key` against a running server, who may read what, and
// `coffer audit verify` offline on the log it leaves: intact, then each kind of tampering.

interface Principal {
  objectId: string;
  clientId: string;
  clientSecret: string;
}

describe('coffer audit: query, tail, verify (dev server, HMACed names, rotated files)', () => {
  let server: DevServer;
  let adminToken: string;
  let auditor: Principal;
  let reader: Principal;
  const work = scratchDir('audit-cli');
  const keyFile = path.join(work, 'audit-key.pem');

  const admin = async (method: string, adminPath: string, body?: unknown) => {
    const response = await rawRequest(`${server.facts.url}${adminPath}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    assert.ok(response.status < 300, `${method} ${adminPath}: ${response.status} ${response.text}`);
    return response.json() as unknown;
  };
  /** The CLI signed in as another principal. */
  const cliAs = (principal: Principal, args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const { facts } = server;
      execFile(
        process.execPath,
        [
          cofferBin,
          ...args,
          '--url',
          facts.url,
          '--tenant-id',
          facts.tenantId,
          '--client-id',
          principal.clientId,
          '--ca-file',
          facts.caFile,
        ],
        { cwd: repoRoot, env: { ...process.env, COFFER_CLIENT_SECRET: principal.clientSecret } },
        (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
      );
    });

  before(async () => {
    server = await startDevServer({
      env: {
        COFFER_AUDIT_HMAC_OBJECT_NAMES: 'true',
        COFFER_AUDIT_SINKS: JSON.stringify([{ type: 'file', maxFileKiB: 4 }]),
      },
    });
    const { facts } = server;
    adminToken = await fetchToken(facts.authorityHost, facts.tenantId, facts.clientId, facts.clientSecret);
    reader = (await admin('POST', '/coffer/principals', { name: 'payroll-reader' })) as Principal;
    auditor = (await admin('POST', '/coffer/principals', { name: 'dev-auditor' })) as Principal;
    const role = (await admin('POST', '/coffer/roles/definitions', {
      roleName: 'Vault Auditor',
      actions: ['Coffer/auditLogs/read'],
    })) as { id: string };
    await admin('POST', '/coffer/roles/assignments', {
      role: role.id,
      principalId: auditor.objectId,
      scope: '/vaults/dev',
    });
    await admin('POST', '/coffer/roles/assignments', {
      role: 'Key Vault Secrets User',
      principalId: reader.objectId,
      scope: '/vaults/dev/secrets/payroll',
    });
  });

  after(async () => {
    if (server.process.child.exitCode === null) await server.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('answers "who read secret payroll this week" in one command, though records hold only its HMAC', async () => {
    const { facts } = server;
    await server.secrets().setSecret('payroll', 'salary-table');
    await server.secrets().setSecret('other', 'x');
    await server.secrets().getSecret('payroll');
    await server.secrets().getSecret('other');
    await new SecretClient(
      facts.vaultUrl,
      credentialFor(facts, reader.clientId, reader.clientSecret),
    ).getSecret('payroll');

    const readers = await cofferJson<Record[]>(server.dataDir, [
      'audit',
      'query',
      '--object',
      'payroll',
      '--operation',
      'SecretGet',
      '--since',
      '7d',
      '--result',
      'Success',
    ]);
    assert.deepEqual(
      readers.map((record) => record.identity?.claim['appid']),
      [facts.clientId, reader.clientId],
    );
    const hmac = await cofferJson<{ hmac: string }>(server.dataDir, ['audit', 'hmac', 'Payroll']);
    assert.match(hmac.hmac, /^hmac:[A-Za-z0-9_-]{43}$/);
    for (const record of readers) {
      assert.equal(record.properties!.id, `${facts.vaultUrl}/secrets/${hmac.hmac}`);
      assert.doesNotMatch(JSON.stringify(record), /payroll/i, 'the name itself is in no record');
    }
    const table = await cofferCli(server.dataDir, [
      'audit',
      'query',
      '--object',
      'secrets/payroll',
      '--operation',
      'SecretGet',
      '--result',
      '200',
    ]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^Time +Vault +Operation +Status +Caller +Object +Address\n/);
    // The SDK's first request of each client is its 401 challenge: a SecretGet of its own, left out here.
    assert.equal(table.stdout.trim().split('\n').length, 4, 'header, rule and the two reads');

    const bad = await cofferCli(server.dataDir, ['audit', 'query', '--since', 'last tuesday']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^coffer: .*ISO 8601.*7d/);
  });

  it("lets a vault's auditor read that vault's records only; others get 403", async () => {
    const mine = await cliAs(auditor, ['audit', 'query', '--vault', 'dev', '--output', 'json']);
    assert.equal(mine.code, 0, mine.stderr);
    const records = JSON.parse(mine.stdout) as Record[];
    assert.ok(records.length > 0);
    assert.ok(records.every((record) => record.resourceId === '/vaults/dev'));
    const everything = await cliAs(auditor, ['audit', 'query']);
    assert.equal(everything.code, 1);
    assert.match(everything.stderr, /^coffer: Forbidden: .*Coffer\/auditLogs\/read/);
    assert.equal((await cliAs(auditor, ['audit', 'query', '--vault', 'other'])).code, 1);
    const stranger = await cliAs(reader, ['audit', 'query', '--vault', 'dev']);
    assert.equal(stranger.code, 1);
    assert.match(stranger.stderr, /Forbidden/);
  });

  it('tails the latest records, and follows new ones without echoing its own polls', async () => {
    const latest = await cofferJson<Record[]>(server.dataDir, ['audit', 'tail', '-n', '3']);
    assert.equal(latest.length, 3);
    assert.ok(latest[0]!.sequence < latest[2]!.sequence, 'oldest first');

    const follower = followAuditTail<Record>(server.dataDir);
    try {
      await eventually(() => follower.lines().length >= 1, 'the first line');
      await new Promise((resolve) => setTimeout(resolve, 2500));
      await server.secrets().getSecret('other');
      await eventually(
        () => follower.lines().some((record) => record.operationName === 'SecretGet'),
        'the new record',
      );
      const own = follower
        .lines()
        .filter((record) => String(record.correlationId).startsWith('coffer-tail-'));
      assert.deepEqual(own, [], 'its own queries are not echoed');
    } finally {
      follower.stop();
    }
  });

  it('verifies the log it leaves, across rotated files, and names the first bad record of each tampering', async () => {
    const key = await cofferCli(server.dataDir, ['audit', 'public-key']);
    assert.equal(key.code, 0, key.stderr);
    writeFileSync(keyFile, key.stdout);
    assert.equal(await server.stop(), 0);
    const auditDir = path.join(server.dataDir, 'audit');
    const files = logFiles(auditDir);
    assert.ok(files.length >= 3, `rotated into several files (${files.length})`);

    const verify = (paths: string[], ...extra: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [cofferBin, 'audit', 'verify', ...paths, '--public-key', keyFile, ...extra],
          { cwd: repoRoot },
          (error, stdout, stderr) =>
            resolve({
              code: error ? (typeof error.code === 'number' ? error.code : null) : 0,
              stdout,
              stderr,
            }),
        );
      });
    const intact = await verify(files);
    assert.equal(intact.code, 0, intact.stderr);
    assert.match(intact.stdout, /^Intact: records 1 to (\d+) are complete and unmodified/);
    // As CONTRACT section 8 writes it, without a key: the key beside the log, with a warning.
    const bare = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [cofferBin, 'audit', 'verify', ...files],
        { cwd: repoRoot },
        (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr }),
      ),
    );
    assert.equal(bare.code, 0, bare.stderr);
    assert.match(
      bare.stderr,
      /^coffer: warning: trusting .*checkpoint-public-key\.pem, which sits beside the log/,
    );
    const json = await verify(files, '--output', 'json');
    const verdict = JSON.parse(json.stdout) as {
      intact: boolean;
      summary: { lastCheckpoint: { reason: string } };
    };
    assert.deepEqual([verdict.intact, verdict.summary.lastCheckpoint.reason], [true, 'shutdown']);

    /** A copy of the log with one change, verified. */
    let copies = 0;
    const tampered = async (change: (lines: string[][]) => void) => {
      const dir = path.join(work, `copy-${++copies}`);
      mkdirSync(dir);
      const lines = files.map((file) => readFileSync(file, 'utf8').split('\n').filter(Boolean));
      change(lines);
      const copiesOf = files.map((file, index) => {
        const copy = path.join(dir, path.basename(file));
        writeFileSync(copy, lines[index]!.map((line) => `${line}\n`).join(''));
        return copy;
      });
      return {
        result: await verify(copiesOf.filter((_, index) => lines[index]!.length > 0)),
        copies: copiesOf,
      };
    };
    const sequenceOf = (line: string) => (JSON.parse(line) as Record).sequence;

    const middle = files.length > 2 ? 1 : 0;
    const edited = await tampered((lines) => {
      lines[middle]![1] = lines[middle]![1]!.replace(/"durationMs":\d+/, '"durationMs":9999');
    });
    const editedSequence = sequenceOf(readFileSync(files[middle]!, 'utf8').split('\n')[1]!);
    assert.equal(edited.result.code, 1);
    assert.match(
      edited.result.stderr,
      new RegExp(`^coffer: NOT INTACT at .*audit-\\d{16}\\.jsonl:2: record ${editedSequence} was edited`),
    );

    const deleted = await tampered((lines) => lines[middle]!.splice(1, 1));
    assert.equal(deleted.result.code, 1);
    assert.match(
      deleted.result.stderr,
      new RegExp(`record ${editedSequence} is missing before record ${editedSequence + 1} \\(deleted\\)`),
    );

    const reordered = await tampered((lines) => {
      const file = lines[middle]!;
      [file[1], file[2]] = [file[2]!, file[1]!];
    });
    assert.equal(reordered.result.code, 1);
    assert.match(reordered.result.stderr, /missing before record|comes after record/);

    const truncated = await tampered((lines) => lines[lines.length - 1]!.splice(-2, 2));
    assert.equal(truncated.result.code, 1);
    assert.match(truncated.result.stderr, /truncated/);

    const fileRemoved = await tampered((lines) => (lines[middle] = []));
    assert.equal(fileRemoved.result.code, 1);
    assert.match(fileRemoved.result.stderr, /missing before record .* \(deleted\)/);

    const forged = await tampered((lines) => {
      // A forger with write access re-signs the shutdown checkpoint with a key of their own.
      const last = lines[lines.length - 1]!;
      const checkpoint = JSON.parse(last[last.length - 1]!) as globalThis.Record<string, unknown>;
      const { privateKey } = generateKeyPairSync('ed25519');
      const unsigned = { ...checkpoint };
      delete unsigned['signature'];
      delete unsigned['hash'];
      checkpoint['signature'] = sign(
        null,
        Buffer.from(canonicalJson(unsigned)),
        createPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' })),
      ).toString('base64url');
      const rest = { ...checkpoint };
      delete rest['hash'];
      checkpoint['hash'] = createHash('sha256').update(canonicalJson(rest)).digest('hex');
      last[last.length - 1] = canonicalJson(checkpoint);
    });
    assert.equal(forged.result.code, 1);
    assert.match(forged.result.stderr, /checkpoint \d+ does not carry a valid signature/);

    const otherKey = path.join(work, 'other-key.pem');
    writeFileSync(otherKey, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
    const wrongKey = await new Promise<{ code: number | null; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [cofferBin, 'audit', 'verify', ...files, '--public-key', otherKey],
        { cwd: repoRoot },
        (error, _out, stderr) => resolve({ code: error ? 1 : 0, stderr }),
      ),
    );
    assert.equal(wrongKey.code, 1);
    assert.match(wrongKey.stderr, /not a trusted key/);
  });
});
