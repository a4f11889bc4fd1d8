import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { colorJson, jsonText, tsvText, yamlText } from './output-formats.js';
import { autoTable } from './table.js';

describe("az's output formats", () => {
  it('json sorts keys at every level, as az does', () => {
    assert.equal(
      jsonText({ b: 1, a: { d: true, c: null } }),
      '{\n  "a": {\n    "c": null,\n    "d": true\n  },\n  "b": 1\n}',
    );
  });

  it('tsv: one line per item, values in key order, lists as their length, objects empty, null as None', () => {
    const rows = [
      { name: 'a', enabled: true, tags: { x: '1' }, ops: ['sign', 'verify'], expires: null },
      { name: 'b', enabled: false, tags: {}, ops: [], expires: '2030' },
    ];
    assert.equal(tsvText(rows), 'True\tNone\ta\t2\t\nFalse\t2030\tb\t0\t\n');
    assert.equal(tsvText('bare value'), 'bare value\n');
    assert.equal(tsvText(['a', 'b']), 'a\nb\n');
    assert.equal(tsvText(true), 'true\n');
  });

  it('yaml sorts keys and quotes what YAML would misread', () => {
    assert.equal(yamlText({ value: 'yes: no', a: 1 }), 'a: 1\nvalue: "yes: no"\n');
  });

  it('jsonc colours keys and strings differently, and strips back to the same JSON', () => {
    const colored = colorJson({ key: 'text', n: 2 });
    assert.ok(colored.includes('\x1b[94m"key"\x1b[0m:'));
    assert.ok(colored.includes('\x1b[33m"text"\x1b[0m'));
    assert.equal(
      colored.replace(new RegExp(String.fromCharCode(27) + '\\[\\d+m', 'g'), ''),
      jsonText({ key: 'text', n: 2 }),
    );
  });

  it("the automatic table keeps scalar fields, capitalised, and skips id, type and etag, as az's", () => {
    const table = autoTable([
      { name: 'a', id: 'x', nested: { n: 1 }, count: 2 },
      { name: 'b', extra: true },
    ]);
    assert.equal(table, 'Name  Count  Extra\n----  -----  -----\na     2\nb            true\n');
    assert.equal(autoTable('just text'), 'Result\n---------\njust text\n');
  });
});
