import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cellText, renderProperties, renderTable } from './table.js';

describe('renderTable', () => {
  it('aligns columns under a header and a rule', () => {
    const text = renderTable(
      ['Name', 'Enabled', 'Url'],
      [
        ['dev', true, 'https://dev.vault.localhost:8443'],
        ['payments-prod', false, 'https://payments-prod.vault.localhost:8443'],
      ],
    );
    assert.equal(
      text,
      [
        'Name           Enabled  Url',
        '-------------  -------  ------------------------------------------',
        'dev            true     https://dev.vault.localhost:8443',
        'payments-prod  false    https://payments-prod.vault.localhost:8443',
        '',
      ].join('\n'),
    );
  });

  it('prints only the header and rule when there are no rows', () => {
    assert.equal(renderTable(['Name', 'Url'], []), 'Name  Url\n----  ---\n');
  });

  it('leaves no trailing spaces when the last cells are empty', () => {
    const text = renderTable(
      ['A', 'B'],
      [
        ['x', undefined],
        ['longer', null],
      ],
    );
    assert.equal(text, 'A       B\n------  -\nx\nlonger\n');
  });

  it('fills missing cells of short rows', () => {
    assert.equal(renderTable(['A', 'B', 'C'], [['1']]), 'A  B  C\n-  -  -\n1\n');
  });
});

describe('renderProperties', () => {
  it('aligns values after the longest label', () => {
    assert.equal(
      renderProperties([
        ['Name', 'dev'],
        ['Purge protection', false],
        ['Created', undefined],
      ]),
      'Name              dev\nPurge protection  false\nCreated\n',
    );
  });
});

describe('cellText', () => {
  it('keeps every value on one line', () => {
    assert.equal(cellText('two\nlines'), 'two lines');
    assert.equal(cellText(['a', 1, true]), 'a, 1, true');
    assert.equal(cellText({ a: 1 }), '{"a":1}');
    assert.equal(cellText(0), '0');
    assert.equal(cellText(null), '');
  });
});
