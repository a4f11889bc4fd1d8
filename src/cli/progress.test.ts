import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forEachWithProgress, startProgress } from './progress.js';

/** A terminal or a pipe that keeps what was written to it. */
function sink(isTTY: boolean) {
  const written: string[] = [];
  return { written, isTTY, columns: 60, write: (text: string) => written.push(text) };
}

describe('progress', () => {
  it('prints one plain line per item and the summary when not on a terminal', () => {
    const pipe = sink(false);
    const progress = startProgress('backup', 2, { sink: pipe });
    progress.advance('secrets/a');
    progress.advance('keys/b');
    progress.finish('Backed up 2 objects.');
    assert.deepEqual(pipe.written, [
      'backup: 1/2 secrets/a\n',
      'backup: 2/2 keys/b\n',
      'Backed up 2 objects.\n',
    ]);
  });

  it('redraws one bar in place on a terminal, always showing the last item, then clears it', () => {
    const tty = sink(true);
    const progress = startProgress('import', 4, { sink: tty, redrawMs: 60_000 });
    for (const name of ['a', 'b', 'c', 'd']) progress.advance(name);
    progress.finish('Imported 4 secrets.');
    // The first draw, then the throttle holds until the last item, which always draws.
    assert.equal(tty.written.length, 4);
    assert.ok(tty.written.slice(0, 2).every((text) => text.startsWith('\r\x1b[2K') && !text.includes('\n')));
    assert.match(tty.written[0] ?? '', /import \[#{6}-{18}\] 1\/4 a$/);
    assert.match(tty.written[1] ?? '', /import \[#{24}\] 4\/4 d$/);
    assert.equal(tty.written[2], '\r\x1b[2K');
    assert.equal(tty.written[3], 'Imported 4 secrets.\n');
  });

  it('cuts the bar line to the terminal width so it never wraps', () => {
    const tty = sink(true);
    startProgress('import', 1, { sink: tty }).advance('x'.repeat(200));
    assert.ok((tty.written[0] ?? '').replace('\r\x1b[2K', '').length <= 59);
  });

  it('prints nothing when quiet', () => {
    const pipe = sink(false);
    const progress = startProgress('backup', 1, { sink: pipe, quiet: true });
    progress.advance('a');
    progress.finish('done');
    assert.deepEqual(pipe.written, []);
  });

  it('runs every item, at most N at once, and collects failures without stopping', async () => {
    const pipe = sink(false);
    let running = 0;
    let peak = 0;
    const failures = await forEachWithProgress(
      [1, 2, 3, 4, 5, 6],
      String,
      async (item) => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running -= 1;
        if (item % 3 === 0) throw new Error(`bad ${item}`);
      },
      startProgress('work', 6, { sink: pipe }),
      2,
    );
    assert.equal(peak, 2);
    assert.deepEqual(failures.map((failure) => failure.item).sort(), [3, 6]);
    assert.equal(pipe.written.length, 6);
  });
});
