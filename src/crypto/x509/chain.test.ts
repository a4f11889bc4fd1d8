import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { orderChain } from './chain.js';
import { issueCertificate } from './issue.js';
import { assertBadParameter, testKey, type TestKey } from './test-fixtures.js';
import type { KeyUsage } from './types.js';

const NOT_BEFORE = new Date(Date.now() - 3600_000);
const NOT_AFTER = new Date(Date.now() + 86_400_000);

async function issue(
  subject: string,
  key: TestKey,
  keyUsage: KeyUsage[],
  issuer?: { der: Buffer; key: TestKey },
) {
  return issueCertificate({
    fields: { subject, keyUsage },
    publicKeySpki: key.spki,
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
    signer: (issuer?.key ?? key).signer,
    issuerCertificate: issuer?.der,
  });
}

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, index) =>
    permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]),
  );
}

describe('orderChain', () => {
  let root: Buffer;
  let intermediate: Buffer;
  let leaf: Buffer;
  let unrelated: Buffer;
  before(async () => {
    const [rootKey, interKey, leafKey, otherKey] = await Promise.all(
      [1, 2, 3, 4].map(() => testKey({ kty: 'EC', curve: 'P-256' })),
    );
    root = await issue('CN=Root', rootKey!, ['keyCertSign']);
    intermediate = await issue('CN=Intermediate', interKey!, ['keyCertSign'], { der: root, key: rootKey! });
    leaf = await issue('CN=leaf', leafKey!, ['digitalSignature'], { der: intermediate, key: interKey! });
    unrelated = await issue('CN=Unrelated', otherKey!, ['digitalSignature']);
  });

  it('puts the leaf first and each issuer after it, whatever the input order', () => {
    for (const order of permutations([root, intermediate, leaf])) {
      assert.deepEqual(orderChain(order), [leaf, intermediate, root]);
    }
  });

  it('orders a chain without its root, and one certificate alone', () => {
    assert.deepEqual(orderChain([intermediate, leaf]), [leaf, intermediate]);
    assert.deepEqual(orderChain([root]), [root]);
    assert.deepEqual(orderChain([]), []);
  });

  it('keeps certificates outside the chain after it, in their original order', () => {
    assert.deepEqual(orderChain([root, unrelated, leaf, intermediate]), [
      leaf,
      intermediate,
      root,
      unrelated,
    ]);
  });

  it('refuses something that is not a certificate', () =>
    assertBadParameter(
      () => orderChain([leaf, Buffer.from('junk')]),
      /Certificate 2 of the chain is not a valid/,
    ));
});
