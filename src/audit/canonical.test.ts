import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson } from './canonical.js';

describe('canonical JSON', () => {
  it('gives the RFC 8785 (JCS) output for the RFC’s own example', () => {
    const input = JSON.parse(
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
    ) as unknown;
    assert.equal(
      canonicalJson(input),
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts members by UTF-16 code units at every depth, and round-trips', () => {
    const value = { b: 1, a: { z: [3, { y: 'é', x: null }], ä: true }, A: 'x' };
    const text = canonicalJson(value);
    assert.equal(text, '{"A":"x","a":{"z":[3,{"x":null,"y":"é"}],"ä":true},"b":1}');
    assert.deepEqual(JSON.parse(text), value);
    assert.equal(canonicalJson(JSON.parse(text)), text);
  });

  it('leaves out undefined members and refuses what JSON cannot hold', () => {
    assert.equal(canonicalJson({ a: undefined, b: 2 }), '{"b":2}');
    assert.throws(() => canonicalJson({ a: Number.NaN }));
    assert.throws(() => canonicalJson([undefined]));
  });
});
