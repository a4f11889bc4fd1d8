/**
 * Progress of a long operation over many objects (bulk import, vault backup and restore, and
 * later operator backups): a bar redrawn in place on a terminal, plain lines elsewhere so logs
 * and CI output stay readable. Always on stderr: stdout keeps only the result.
 */

export interface ProgressSink {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface Progress {
  /** One more item done (or failed); `label` names it. */
  advance(label: string): void;
  /** Ends the display: clears the bar on a terminal and prints `summary` as a line. */
  finish(summary: string): void;
}

export interface ProgressOptions {
  /** Where to draw (default stderr). */
  sink?: ProgressSink;
  /** Print nothing but the summary (`--only-show-errors` prints not even that). */
  quiet?: boolean;
  /** Least time between two redraws of the bar, so a fast loop does not flood the terminal. */
  redrawMs?: number;
}

const BAR_WIDTH = 24;

/**
 * The one display every long command uses: `update(done, total, label)` redraws a bar in place on
 * a terminal (throttled, but the last step always draws) and, elsewhere, prints a plain line per
 * item (`plain: 'item'`) or per tenth of the work (`plain: 'tenth'`, for counts in the millions);
 * `phase(text)` shows a step that has no count yet; `finish(summary)` clears the bar and prints
 * the summary line.
 */
export interface ProgressDisplay {
  update(done: number, total: number, label?: string): void;
  phase(text: string): void;
  finish(summary?: string): void;
}

export interface DisplayOptions extends ProgressOptions {
  plain?: 'item' | 'tenth';
  /** What is counted, in plain per-tenth lines ("records"). */
  unit?: string;
}

export function createProgressDisplay(title: string, options: DisplayOptions = {}): ProgressDisplay {
  const sink = options.sink ?? process.stderr;
  const quiet = options.quiet === true;
  const terminal = sink.isTTY === true;
  const redrawMs = options.redrawMs ?? 80;
  const unit = options.unit ? ` ${options.unit}` : '';
  let lastDraw = 0;
  let lastPlain = '';
  let drawn = false;

  const drawLine = (line: string): void => {
    const width = Math.max(20, (sink.columns ?? 80) - 1);
    sink.write(`\r\x1b[2K${line.length > width ? line.slice(0, width) : line}`);
    drawn = true;
  };
  const plainLine = (line: string): void => {
    if (line === lastPlain) return;
    lastPlain = line;
    sink.write(`${line}\n`);
  };

  return {
    update(done, total, label = '') {
      if (quiet) return;
      if (!terminal) {
        if (options.plain === 'tenth') {
          const tenth = total > 0 ? Math.floor(Math.min(1, done / total) * 10) : 10;
          plainLine(`${title}: ${tenth * 10}% (${done} of ${total}${unit})`);
        } else plainLine(`${title}: ${done}/${total} ${label}`.trimEnd());
        return;
      }
      const now = Date.now();
      if (done < total && now - lastDraw < redrawMs) return;
      lastDraw = now;
      const filled = total === 0 ? BAR_WIDTH : Math.round(Math.min(1, done / total) * BAR_WIDTH);
      drawLine(
        `${title} [${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${done}/${total} ${label}`.trimEnd(),
      );
    },
    phase(text) {
      if (quiet) return;
      if (terminal) drawLine(text);
      else plainLine(text);
    },
    finish(summary) {
      if (terminal && drawn) sink.write('\r\x1b[2K');
      if (!quiet && summary !== undefined) sink.write(`${summary}\n`);
    },
  };
}

/** Progress over a known list of items, advanced one item at a time: a line per item off a terminal. */
export function startProgress(title: string, total: number, options: ProgressOptions = {}): Progress {
  const display = createProgressDisplay(title, { ...options, plain: 'item' });
  let done = 0;
  return {
    advance: (label) => display.update(++done, total, label),
    finish: (summary) => display.finish(summary),
  };
}

/**
 * Runs `work` on every item with at most `concurrency` at once, advancing `progress` as each
 * ends; failures are collected, not thrown, so one bad object does not stop the rest.
 */
export async function forEachWithProgress<T>(
  items: readonly T[],
  labelOf: (item: T) => string,
  work: (item: T) => Promise<void>,
  progress: Progress,
  concurrency = 4,
): Promise<{ item: T; error: unknown }[]> {
  const failures: { item: T; error: unknown }[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        failures.push({ item, error });
      }
      progress.advance(labelOf(item));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return failures;
}

/** Progress of a count of records (a backup's), with a plain line per tenth off a terminal. */
export function createProgress(title: string) {
  const display = createProgressDisplay(title, { plain: 'tenth', unit: 'records', redrawMs: 100 });
  return {
    update: (done: number, total: number) => display.update(done, total, 'records'),
    finish: () => display.finish(),
  };
}
