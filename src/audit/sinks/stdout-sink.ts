import type { SpooledEntry } from '../record.js';
import type { Sink } from '../types.js';

/** Records as JSON lines on the server's standard output, for a container's log collector. */
export class StdoutSink implements Sink {
  readonly name = 'stdout';

  constructor(private readonly stream: NodeJS.WritableStream = process.stdout) {}

  deliver(entries: SpooledEntry[]): Promise<void> {
    const text = entries.map((entry) => `${entry.line}\n`).join('');
    return new Promise((resolve, reject) => {
      this.stream.write(text, (error) => (error ? reject(error) : resolve()));
    });
  }
}
