import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_JSON_DEPTH, nestedDeeperThan } from './json-body.js';

const nested = (depth: number) => `${'{"a":'.repeat(depth - 1)}[1]${'}'.repeat(depth - 1)}`;

describe('JSON nesting depth', () => {
  it('counts arrays and objects inside each other, up to the limit and one past it', () => {
    assert.equal(nestedDeeperThan(nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH), false);
    assert.equal(nestedDeeperThan(nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH), true);
    assert.equal(nestedDeeperThan('[[[]]]', 2), true);
    assert.equal(nestedDeeperThan('[[], [], {"a": [], "b": {}}]', 3), false, 'siblings do not add up');
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    assert.equal(nestedDeeperThan(JSON.stringify({ value: '[[[[[[{{{{' }), 1), false);
    assert.equal(nestedDeeperThan(JSON.stringify({ value: 'a\\"[[[[\\\\' }), 1), false);
    assert.equal(
      nestedDeeperThan(`{"v":"\\"","w":[[1]]}`, 2),
      true,
      'an escaped quote does not end the string',
    );
  });
});
