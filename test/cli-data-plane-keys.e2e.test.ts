import assert from 'node:assert/strict';
import {
  constants,
  createHash,
  createPublicKey,
  generateKeyPairSync,
  publicEncrypt,
  verify,
} from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertOneLineFailure, assertSucceeded, cli, parseJson } from './helpers/cli-process.js';
import { type DevServer, scratchDir, startDevServer } from './helpers/server-process.js';

// `coffer key ...` against a real dev server, every cryptographic answer checked with node:crypto
// (an implementation independent of the server's): what the CLI signs verifies locally, what is
// encrypted locally with the downloaded public key the CLI decrypts.

interface KeyJson {
  name: string;
  key: { kid: string; kty: string; key_ops: string[]; n?: string; crv?: string };
  attributes: { enabled: boolean };
  tags?: Record<string, string>;
}

const digestOf = (text: string) => createHash('sha256').update(text).digest('base64');

describe('coffer key', () => {
  let server: DevServer;
  let dev: string[];
  let inVault: string[];
  let files: string;

  before(async () => {
    server = await startDevServer();
    dev = ['--dev-data-dir', server.dataDir];
    inVault = ['--vault-name', 'dev', ...dev];
    files = scratchDir('cli-key-files');
  });
  after(async () => {
    await server?.stop('SIGTERM');
  });

  it("create RSA and EC keys: JSON in az's shape, a table without key material", async () => {
    const [rsa, ec, table] = await Promise.all([
      cli([
        'key',
        'create',
        '-n',
        'rsa-key',
        '--size',
        '2048',
        '--tags',
        'use=test',
        ...inVault,
        '-o',
        'json',
      ]),
      cli(['key', 'create', '-n', 'ec-key', '--kty', 'EC', '--curve', 'P-256', ...inVault, '-o', 'json']),
      cli(['key', 'create', '-n', 'table-key', '--ops', 'sign', 'verify', ...inVault]),
    ]);
    const rsaKey = parseJson<KeyJson>(rsa);
    assert.equal(rsaKey.name, 'rsa-key');
    assert.equal(rsaKey.key.kty, 'RSA');
    assert.equal(Buffer.from(rsaKey.key.n ?? '', 'base64url').length, 256);
    assert.deepEqual(rsaKey.tags, { use: 'test' });
    assert.equal(parseJson<KeyJson>(ec).key.crv, 'P-256');
    assertSucceeded(table);
    assert.match(table.stdout, /^Key type +RSA$/m);
    assert.match(table.stdout, /^Operations +sign, verify$/m);
  });

  it('download the public key (PEM and DER, mode 0600); a local encryption decrypts through the CLI', async () => {
    const pem = path.join(files, 'rsa.pem');
    const der = path.join(files, 'rsa.der');
    const [pemRun, derRun] = await Promise.all([
      cli(['key', 'download', '-n', 'rsa-key', '--file', pem, ...inVault]),
      cli(['key', 'download', '-n', 'rsa-key', '--file', der, '--encoding', 'DER', ...inVault]),
    ]);
    assertSucceeded(pemRun);
    assertSucceeded(derRun);
    assert.equal(statSync(pem).mode & 0o777, 0o600);
    const publicKey = createPublicKey(readFileSync(pem));
    assert.deepEqual(
      createPublicKey({ key: readFileSync(der), format: 'der', type: 'spki' }).export({ format: 'jwk' }),
      publicKey.export({ format: 'jwk' }),
    );

    const ciphertext = publicEncrypt(
      { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      Buffer.from('sealed locally'),
    );
    const decrypted = parseJson<{ result: string; algorithm: string }>(
      await cli([
        'key',
        'decrypt',
        '-n',
        'rsa-key',
        '-a',
        'RSA-OAEP-256',
        '--value',
        ciphertext.toString('base64'),
        '--data-type',
        'plaintext',
        ...inVault,
        '-o',
        'json',
      ]),
    );
    assert.equal(decrypted.result, 'sealed locally');
    assert.equal(decrypted.algorithm, 'RSA-OAEP-256');
  });

  it('encrypt then decrypt round-trips through the server', async () => {
    const encrypted = parseJson<{ result: string; kid: string }>(
      await cli([
        'key',
        'encrypt',
        '-n',
        'rsa-key',
        '-a',
        'RSA-OAEP',
        '--value',
        'round trip',
        '--data-type',
        'plaintext',
        ...inVault,
        '-o',
        'json',
      ]),
    );
    assert.match(encrypted.kid, /\/keys\/rsa-key\/[0-9a-f]{32}$/);
    assert.equal(Buffer.from(encrypted.result, 'base64').length, 256);
    const decrypted = await cli([
      'key',
      'decrypt',
      '--id',
      encrypted.kid,
      '-a',
      'RSA-OAEP',
      '--value',
      encrypted.result,
      '--data-type',
      'plaintext',
      ...dev,
      '--query',
      'result',
      '-o',
      'tsv',
    ]);
    assert.equal(decrypted.stdout, 'round trip\n');
  });

  it('sign verifies with node:crypto, and verify agrees; a changed digest does not verify', async () => {
    const ecPem = path.join(files, 'ec.pem');
    assertSucceeded(await cli(['key', 'download', '-n', 'ec-key', '--file', ecPem, ...inVault]));
    for (const [name, algorithm, keyFile] of [
      ['rsa-key', 'PS256', path.join(files, 'rsa.pem')],
      ['ec-key', 'ES256', ecPem],
    ] as const) {
      const digest = digestOf(`document for ${algorithm}`);
      const signature = (
        await cli([
          'key',
          'sign',
          '-n',
          name,
          '-a',
          algorithm,
          '--digest',
          digest,
          ...inVault,
          '--query',
          'signature',
          '-o',
          'tsv',
        ])
      ).stdout.trim();
      const options =
        algorithm === 'ES256'
          ? { key: createPublicKey(readFileSync(keyFile)), dsaEncoding: 'ieee-p1363' as const }
          : {
              key: createPublicKey(readFileSync(keyFile)),
              padding: constants.RSA_PKCS1_PSS_PADDING,
              saltLength: 32,
            };
      assert.ok(
        verify('sha256', Buffer.from(`document for ${algorithm}`), options, Buffer.from(signature, 'base64')),
        `${algorithm} verifies locally`,
      );
      const [valid, invalid] = await Promise.all([
        cli([
          'key',
          'verify',
          '-n',
          name,
          '-a',
          algorithm,
          '--digest',
          digest,
          '--signature',
          signature,
          ...inVault,
          '-o',
          'json',
        ]),
        cli([
          'key',
          'verify',
          '-n',
          name,
          '-a',
          algorithm,
          '--digest',
          digestOf('another'),
          '--signature',
          signature,
          ...inVault,
          '-o',
          'json',
        ]),
      ]);
      assert.equal(parseJson<{ isValid: boolean }>(valid).isValid, true);
      assert.equal(parseJson<{ isValid: boolean }>(invalid).isValid, false);
    }
  });

  it('import a PEM key and a JWK file; what the vault signs verifies with the local public key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const pemFile = path.join(files, 'imported.pem');
    writeFileSync(pemFile, privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const jwkFile = path.join(files, 'imported.jwk');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(jwkFile, JSON.stringify(rsa.privateKey.export({ format: 'jwk' })));
    const [fromPem, fromJwk] = await Promise.all([
      cli(['key', 'import', '-n', 'from-pem', '--pem-file', pemFile, ...inVault, '-o', 'json']),
      cli([
        'key',
        'import',
        '-n',
        'from-jwk',
        '--jwk-file',
        jwkFile,
        '--ops',
        'sign',
        'verify',
        ...inVault,
        '-o',
        'json',
      ]),
    ]);
    assert.equal(parseJson<KeyJson>(fromPem).key.crv, 'P-384');
    const jwkKey = parseJson<KeyJson>(fromJwk);
    assert.equal(jwkKey.key.n, rsa.publicKey.export({ format: 'jwk' }).n);
    assert.deepEqual(jwkKey.key.key_ops, ['sign', 'verify']);
    assert.ok(
      !JSON.stringify(jwkKey).includes(String(rsa.privateKey.export({ format: 'jwk' }).d)),
      'no private member comes back',
    );

    const digest = createHash('sha384').update('imported').digest('base64');
    const signature = (
      await cli([
        'key',
        'sign',
        '-n',
        'from-pem',
        '-a',
        'ES384',
        '--digest',
        digest,
        ...inVault,
        '--query',
        'signature',
        '-o',
        'tsv',
      ])
    ).stdout.trim();
    assert.ok(
      verify(
        'sha384',
        Buffer.from('imported'),
        { key: publicKey, dsaEncoding: 'ieee-p1363' },
        Buffer.from(signature, 'base64'),
      ),
    );
  });

  it('a bad JWK or PEM file fails with one line that says what is wrong, and imports nothing', async () => {
    const notJson = path.join(files, 'not-json.jwk');
    writeFileSync(notJson, 'kty=RSA');
    const publicOnly = path.join(files, 'public.jwk');
    writeFileSync(
      publicOnly,
      JSON.stringify(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' })),
    );
    const wrongType = path.join(files, 'okp.jwk');
    writeFileSync(
      wrongType,
      JSON.stringify(generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' })),
    );
    const encrypted = path.join(files, 'encrypted.pem');
    writeFileSync(
      encrypted,
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
        format: 'pem',
        type: 'pkcs8',
        cipher: 'aes-256-cbc',
        passphrase: 'right',
      }),
    );
    const results = await Promise.all([
      cli(['key', 'import', '-n', 'bad-1', '--jwk-file', notJson, ...inVault]),
      cli(['key', 'import', '-n', 'bad-2', '--jwk-file', publicOnly, ...inVault]),
      cli(['key', 'import', '-n', 'bad-3', '--jwk-file', wrongType, ...inVault]),
      cli(['key', 'import', '-n', 'bad-4', '--pem-file', encrypted, ...inVault]),
      cli(['key', 'import', '-n', 'bad-5', '--pem-file', encrypted, '--pem-password', 'wrong', ...inVault]),
      cli(['key', 'import', '-n', 'bad-6', ...inVault]),
    ]);
    assertOneLineFailure(results[0]!, /not-json\.jwk is not a JWK: it is not JSON/);
    assertOneLineFailure(results[1]!, /public\.jwk holds no private key \(no "d" member\)/);
    assertOneLineFailure(results[2]!, /okp\.jwk is not a JWK Key Vault imports: kty is "OKP"/);
    assertOneLineFailure(results[3]!, /encrypted\.pem .*encrypted: pass --pem-password/);
    assertOneLineFailure(results[4]!, /Check --pem-password/);
    assertOneLineFailure(results[5]!, /exactly one of --pem-file, --pem-string or --jwk-file/);
    const names = parseJson<string[]>(
      await cli(['key', 'list', ...inVault, '--query', '[].name', '-o', 'json']),
    );
    assert.deepEqual(
      names.filter((name) => name.startsWith('bad-')),
      [],
    );
  });

  it('rotate, rotation-policy update and show, set-attributes, list-versions', async () => {
    const policyFile = path.join(files, 'rotation.json');
    writeFileSync(
      policyFile,
      JSON.stringify({
        lifetimeActions: [{ trigger: { timeAfterCreate: 'P90D' }, action: { type: 'Rotate' } }],
        attributes: { expiryTime: 'P1Y' },
      }),
    );
    const rotated = parseJson<KeyJson>(
      await cli(['key', 'rotate', '-n', 'ec-key', ...inVault, '-o', 'json']),
    );
    const [updated, versions] = await Promise.all([
      cli([
        'key',
        'rotation-policy',
        'update',
        '-n',
        'ec-key',
        '--value',
        `@${policyFile}`,
        ...inVault,
        '-o',
        'json',
      ]),
      cli(['key', 'list-versions', '-n', 'ec-key', ...inVault, '-o', 'json']),
    ]);
    assert.equal(parseJson<{ attributes: { expiryTime: string } }>(updated).attributes.expiryTime, 'P1Y');
    assert.equal(parseJson<unknown[]>(versions).length, 2);
    const shown = await cli(['key', 'rotation-policy', 'show', '-n', 'ec-key', ...inVault]);
    assertSucceeded(shown);
    assert.match(shown.stdout, /^Actions +Rotate P90D after create$/m);

    const disabled = parseJson<KeyJson>(
      await cli([
        'key',
        'set-attributes',
        '--id',
        rotated.key.kid,
        '--enabled',
        'false',
        '--ops',
        'verify',
        ...dev,
        '-o',
        'json',
      ]),
    );
    assert.equal(disabled.attributes.enabled, false);
    assert.deepEqual(disabled.key.key_ops, ['verify']);
    assertOneLineFailure(
      await cli(['key', 'sign', '-n', 'ec-key', '-a', 'ES256', '--digest', digestOf('x'), ...inVault]),
      /Forbidden: Operation sign is not allowed on a disabled key\. Enable it with `coffer key set-attributes --enabled true/,
    );
  });

  it('backup, delete, show-deleted, recover, show, purge and restore give the same key back', async () => {
    const file = path.join(files, 'rsa.kvbackup');
    assertSucceeded(await cli(['key', 'backup', '-n', 'rsa-key', '--file', file, ...inVault, '-o', 'none']));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const deleted = parseJson<{ recoveryId: string }>(
      await cli(['key', 'delete', '-n', 'rsa-key', ...inVault, '-o', 'json']),
    );
    assert.match(deleted.recoveryId, /\/deletedkeys\/rsa-key$/);
    assert.ok(
      parseJson<string[]>(
        await cli(['key', 'list-deleted', ...inVault, '--query', '[].name', '-o', 'json']),
      ).includes('rsa-key'),
    );
    const shownDeleted = await cli([
      'key',
      'show-deleted',
      '-n',
      'rsa-key',
      ...inVault,
      '--query',
      'name',
      '-o',
      'tsv',
    ]);
    assert.equal(shownDeleted.stdout, 'rsa-key\n');
    assertSucceeded(await cli(['key', 'recover', '-n', 'rsa-key', ...inVault, '-o', 'none']));
    const shown = await cli(['key', 'show', '-n', 'rsa-key', ...inVault]);
    assertSucceeded(shown);
    assert.match(shown.stdout, /^Name +rsa-key$/m);
    assert.match(shown.stdout, /^Size or curve +2048$/m);
    assert.ok(!/"d"|"p"|"q"/.test(shown.stdout), 'no private member in the table');
    assertSucceeded(await cli(['key', 'delete', '-n', 'rsa-key', ...inVault, '-o', 'none']));
    assertSucceeded(await cli(['key', 'purge', '--id', deleted.recoveryId, ...dev, '-o', 'none']));
    const restored = parseJson<KeyJson>(
      await cli(['key', 'restore', '--file', file, ...inVault, '-o', 'json']),
    );
    assert.equal(
      restored.key.n,
      createPublicKey(readFileSync(path.join(files, 'rsa.pem'))).export({ format: 'jwk' }).n,
    );
  });
});
