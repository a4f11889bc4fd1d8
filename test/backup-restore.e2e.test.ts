import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SecretClient } from '@azure/keyvault-secrets';
import Database from 'better-sqlite3';
import { fetchToken } from './helpers/http.js';
import { type ProductionServer, startProductionServer } from './helpers/production-server.js';
import { cofferBin, credentialFor, repoRoot, scratchDir, startDevServer } from './helpers/server-process.js';

// Issue 14, whole-installation backup and restore: an online backup under concurrent writes, the
// file verified and restored offline with the unseal shares into a new data dir that starts
// sealed and serves the same data once unsealed; damaged files, wrong shares, a non-empty target,
// a sealed source and kill -9 on either side each get one clear error and leave nothing half made.

interface Init {
  shares: string[];
  tenantId: string;
  clientId: string;
  clientSecret: string;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const SECRETS = 3000;
const valueOf = (i: number) => `value-${i}-${'x'.repeat(i % 97)}`;

/** Rows under sys/sessions/ (console sessions, sign-ins, authorization codes) in a data directory's store. */
function sessionRows(dataDir: string): number {
  const db = new Database(path.join(dataDir, 'coffer.db'), { readonly: true });
  try {
    const row = db.prepare("SELECT count(*) AS n FROM entries WHERE key LIKE 'sys/sessions/%'").get() as {
      n: number;
    };
    return row.n;
  } finally {
    db.close();
  }
}

describe('whole-installation backup and restore', () => {
  let source: ProductionServer;
  let init: Init;
  let secrets: SecretClient;
  let work: string;
  let backupFile: string;
  const acknowledged = new Map<string, string>();

  /** The CLI as an operator runs it against the production server, with stdin when given. */
  const coffer = (
    args: string[],
    options: { stdin?: string; onStderr?: (text: string, kill: () => void) => void } = {},
  ) =>
    new Promise<Run>((resolve) => {
      const child = spawn(process.execPath, [cofferBin, ...args], {
        cwd: repoRoot,
        env: {
          ...process.env,
          COFFER_URL: source.url,
          COFFER_TENANT_ID: init.tenantId,
          COFFER_CLIENT_ID: init.clientId,
          COFFER_CLIENT_SECRET: init.clientSecret,
          COFFER_CA_FILE: path.join(source.dataDir, 'tls', 'ca.pem'),
        },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        options.onStderr?.(stderr, () => child.kill('SIGKILL'));
      });
      child.stdin.end(options.stdin ?? '');
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  const shares = (count = 2) => init.shares.slice(0, count).join('\n') + '\n';
  const unseal = async (server: ProductionServer) => {
    for (const share of init.shares.slice(0, 2)) {
      const answer = await server.api('POST', '/coffer/operator/unseal', { body: { share } });
      assert.equal(answer.status, 200, answer.text);
    }
  };

  before(async () => {
    source = await startProductionServer();
    const answer = await source.api('POST', '/coffer/operator/init', { body: { shares: 3, threshold: 2 } });
    init = answer.json() as Init;
    await unseal(source);
    const token = await fetchToken(source.url, init.tenantId, init.clientId, init.clientSecret);
    assert.equal((await source.api('POST', '/coffer/vaults', { body: { name: 'kept' }, token })).status, 201);
    secrets = new SecretClient(
      source.vaultUrl('kept'),
      credentialFor({ tenantId: init.tenantId, authorityHost: source.url }, init.clientId, init.clientSecret),
    );
    for (let start = 0; start < SECRETS; start += 100) {
      await Promise.all(
        Array.from({ length: 100 }, async (_, offset) => {
          const name = `s${start + offset}`;
          await secrets.setSecret(name, valueOf(start + offset));
          acknowledged.set(name, valueOf(start + offset));
        }),
      );
    }
    // A console sign-in in progress: state a restore must leave behind (sessions, codes likewise).
    const signIn = await source.api('GET', '/ui/sign-in');
    assert.equal(signIn.status, 303, signIn.text);
    assert.ok(sessionRows(source.dataDir) > 0, 'the sign-in is in the store');
    work = scratchDir('backup');
    backupFile = path.join(work, 'installation.cbk');
  });
  after(async () => {
    assert.equal(await source.stop(), 0);
  });

  it('backs up online while writes go on, with a final count, into a file holding no plaintext', async () => {
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing) await secrets.setSecret(`during-${written++}`, 'written during the backup');
    })();
    const before = new Map(acknowledged);
    const run = await coffer(['operator', 'backup', '--out', backupFile, '--output', 'json']);
    writing = false;
    await writer;
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as { file: string; records: number; bytes: number };
    assert.equal(result.file, backupFile);
    assert.ok(result.records > 2 * SECRETS, `${result.records} records`);
    assert.match(
      run.stderr,
      /Backing up: 100% \(\d+ of \d+ records\)/,
      'plain progress lines off a terminal',
    );
    assert.ok(written > 0, 'the server kept serving writes during the backup');
    const bytes = readFileSync(backupFile);
    assert.equal(bytes.length, result.bytes);
    assert.equal(bytes.indexOf(valueOf(42)), -1, 'no secret value in clear');
    // A name shows as a path or a JSON string; three bytes alone turn up by chance in ~1.5 MB of
    // ciphertext (about one run in twelve).
    assert.equal(bytes.indexOf('secrets/s42'), -1, 'not even a name (as a storage path)');
    assert.equal(bytes.indexOf('"s42"'), -1, 'not even a name (in a record)');
    acknowledged.clear();
    for (const [name, value] of before) acknowledged.set(name, value);
  });

  it('verifies with the unseal shares, and refuses wrong shares, a tampered and a cut file', async () => {
    const verified = await coffer(['operator', 'backup', 'verify', backupFile, '--output', 'json'], {
      stdin: shares(),
    });
    assert.equal(verified.code, 0, verified.stderr);
    assert.deepEqual((JSON.parse(verified.stdout) as { terms: number[] }).terms, [1]);

    const tooFew = await coffer(['operator', 'backup', 'verify', backupFile], { stdin: shares(1) });
    assert.match(tooFew.stderr, /^coffer: .*needs 2 of the source installation's 3 unseal shares/);
    const other = await startProductionServer();
    const strangers = (
      (await other.api('POST', '/coffer/operator/init', { body: { shares: 3, threshold: 2 } })).json() as Init
    ).shares;
    await other.stop();
    const wrong = await coffer(['operator', 'backup', 'verify', backupFile], {
      stdin: strangers.slice(0, 2).join('\n'),
    });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /do not (open|reconstruct)/);

    const original = readFileSync(backupFile);
    for (const [label, bytes, expected] of [
      ['tampered', flipByte(original, Math.floor(original.length / 2)), /fails authentication/],
      ['cut', original.subarray(0, original.length - 100), /cut short/],
      ['not a backup', Buffer.from('hello'), /not a Coffer backup/],
    ] as const) {
      const file = path.join(work, `${label}.cbk`);
      writeFileSync(file, bytes);
      const run = await coffer(['operator', 'backup', 'verify', file], { stdin: shares() });
      assert.equal(run.code, 1, label);
      assert.match(run.stderr, expected, label);
      assert.equal(
        run.stderr
          .trim()
          .split('\n')
          .filter((line) => line.startsWith('coffer:')).length,
        1,
      );
    }
  });

  it('restores into a new dir that starts sealed, unseals with the shares and serves every acknowledged secret', async () => {
    const target = path.join(work, 'restored');
    const tampered = path.join(work, 'tampered.cbk');
    const refused = await coffer(['operator', 'restore', '--from', tampered, '--data-dir', target], {
      stdin: shares(),
    });
    assert.equal(refused.code, 1);
    assert.ok(!existsSync(target), 'a refused restore leaves no target');

    const run = await coffer(['operator', 'restore', '--from', backupFile, '--data-dir', target], {
      stdin: shares(),
    });
    assert.equal(run.code, 0, run.stderr);
    const again = await coffer(['operator', 'restore', '--from', backupFile, '--data-dir', target], {
      stdin: shares(),
    });
    assert.match(again.stderr, /is not empty/);
    assert.equal(sessionRows(target), 0, 'no sign-in, session or code is restored');

    const restored = await startProductionServer({ dataDir: target });
    try {
      const status = (await restored.api('GET', '/coffer/operator/status')).json() as {
        sealed: boolean;
        initialized: boolean;
      };
      assert.deepEqual(
        { sealed: status.sealed, initialized: status.initialized },
        { sealed: true, initialized: true },
      );
      await unseal(restored);
      const client = new SecretClient(
        restored.vaultUrl('kept'),
        credentialFor(
          { tenantId: init.tenantId, authorityHost: restored.url },
          init.clientId,
          init.clientSecret,
        ),
      );
      const names = [...acknowledged.keys()];
      for (let start = 0; start < names.length; start += 200) {
        await Promise.all(
          names.slice(start, start + 200).map(async (name) => {
            assert.equal((await client.getSecret(name)).value, acknowledged.get(name), name);
          }),
        );
      }
      // Per-object backups travel within the security domain: the restored installation is in it.
      const blob = await secrets.backupSecret('s7');
      await client.beginDeleteSecret('s7').then((poller) => poller.pollUntilDone());
      await client.purgeDeletedSecret('s7');
      assert.equal((await client.restoreSecretBackup(blob!)).name, 's7');
      const stranger = await startDevServer();
      try {
        await assert.rejects(
          stranger.secrets().restoreSecretBackup(blob!),
          (error: { statusCode?: number; message: string }) => {
            assert.equal(error.statusCode, 400);
            assert.match(error.message, /another Coffer installation/);
            return true;
          },
        );
      } finally {
        await stranger.stop();
      }
      const shifted = await restored.api('POST', '/coffer/dev/time-shift', {
        body: { days: 1 },
        token: await fetchToken(restored.url, init.tenantId, init.clientId, init.clientSecret),
      });
      assert.equal(shifted.status, 400, 'time shift is refused outside dev mode');
      assert.match(shifted.text, /dev servers only/);
    } finally {
      await restored.stop();
    }
  });

  it('a backup of a sealed server is refused in one line', async () => {
    const token = await fetchToken(source.url, init.tenantId, init.clientId, init.clientSecret);
    assert.equal((await source.api('POST', '/coffer/operator/seal', { token })).status, 200);
    const file = path.join(work, 'sealed.cbk');
    const run = await coffer(['operator', 'backup', '--out', file]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /sealed/);
    assert.ok(!existsSync(file) && !existsSync(`${file}.partial`));
    await unseal(source);
  });

  it('kill -9 during backup leaves no file and the source serving; during restore, no target', async () => {
    const file = path.join(work, 'killed.cbk');
    const killedBackup = await coffer(['operator', 'backup', '--out', file], {
      onStderr: (text, kill) => /Backing up: [1-9]0%/.test(text) && kill(),
    });
    assert.equal(killedBackup.code, null, 'killed');
    assert.ok(!existsSync(file), 'no backup file appears');
    assert.equal((await secrets.getSecret('s1')).value, valueOf(1), 'the source still serves');

    const target = path.join(work, 'killed-restore');
    const killedRestore = await coffer(['operator', 'restore', '--from', backupFile, '--data-dir', target], {
      stdin: shares(),
      onStderr: (text, kill) => /Restoring: [1-9]0%/.test(text) && kill(),
    });
    assert.equal(killedRestore.code, null, 'killed');
    assert.ok(!existsSync(target), 'the target is absent, not half made');
    const finished = await coffer(['operator', 'restore', '--from', backupFile, '--data-dir', target], {
      stdin: shares(),
    });
    assert.equal(finished.code, 0, `a new attempt clears what the killed one left: ${finished.stderr}`);
    assert.deepEqual(readdirSync(target).sort(), ['coffer.db', 'coffer.db.lock']);
  });
});

function flipByte(bytes: Buffer, at: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[at] = copy[at]! ^ 0x01;
  return copy;
}
