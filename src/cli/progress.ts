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

export function startProgress(title: string, total: number, options: ProgressOptions = {}): Progress {
  const sink = options.sink ?? process.stderr;
  const quiet = options.quiet === true;
  const terminal = sink.isTTY === true;
  const redrawMs = options.redrawMs ?? 80;
  let done = 0;
  let lastDraw = 0;
  let drawn = false;

  const draw = (label: string): void => {
    const filled = total === 0 ? BAR_WIDTH : Math.round((done / total) * BAR_WIDTH);
    const bar = `${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}`;
    const line = `${title} [${bar}] ${done}/${total} ${label}`;
    const width = Math.max(20, (sink.columns ?? 80) - 1);
    sink.write(`\r\x1b[2K${line.length > width ? line.slice(0, width) : line}`);
    drawn = true;
  };

  return {
    advance(label) {
      done += 1;
      if (quiet) return;
      if (!terminal) {
        sink.write(`${title}: ${done}/${total} ${label}\n`);
        return;
      }
      const now = Date.now();
      if (done === total || now - lastDraw >= redrawMs) {
        lastDraw = now;
        draw(label);
      }
    },
    finish(summary) {
      if (terminal && drawn) sink.write('\r\x1b[2K');
      if (!quiet) sink.write(`${summary}\n`);
    },
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
