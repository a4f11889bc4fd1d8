/**
 * Progress of a long operation on stderr (stdout stays for results): a bar redrawn in place on a
 * terminal, plain lines at every tenth otherwise (logs, CI), so both read well.
 */
export function createProgress(label: string, stream: NodeJS.WriteStream = process.stderr) {
  const tty = stream.isTTY === true;
  let lastDraw = 0;
  let lastTenth = -1;
  let drawn = false;
  return {
    update(done: number, total: number): void {
      const fraction = total > 0 ? Math.min(1, done / total) : 1;
      if (tty) {
        const now = Date.now();
        if (now - lastDraw < 100 && done < total) return;
        lastDraw = now;
        const width = 30;
        const filled = Math.round(fraction * width);
        stream.write(
          `\r${label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${Math.floor(fraction * 100)}% ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} records`,
        );
        drawn = true;
        return;
      }
      const tenth = Math.floor(fraction * 10);
      if (tenth === lastTenth) return;
      lastTenth = tenth;
      stream.write(`${label}: ${tenth * 10}% (${done} of ${total} records)\n`);
    },
    finish(): void {
      if (tty && drawn) stream.write('\n');
    },
  };
}
