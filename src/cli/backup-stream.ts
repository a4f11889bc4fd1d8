import { CliError } from './errors.js';

const MAGIC = Buffer.from('COFFERBK');

/**
 * Follows a backup as it streams by (docs/backup.md, file format) without any key: the header
 * (which says how many records to expect), then each frame's plaintext record count and final
 * flag. Enough for progress, and to know that the stream ended where the backup ends.
 */
export class BackupStreamTap {
  header: { records: number; createdAt?: string; seal?: unknown } | undefined;
  records = 0;
  complete = false;
  private pending: Buffer = Buffer.alloc(0);
  private need: 'start' | 'header' | 'prefix' | 'frame' = 'start';
  private length = 12;
  private finalPending = false;

  push(chunk: Buffer): void {
    let rest = chunk;
    while (rest.length > 0 && !this.complete) {
      if (this.need === 'frame') {
        // A frame's body is only skipped: never buffered, however large.
        const skipped = Math.min(this.length, rest.length);
        rest = rest.subarray(skipped);
        this.length -= skipped;
        if (this.length === 0) this.consume(Buffer.alloc(0));
        continue;
      }
      const wanted = this.length - this.pending.length;
      this.pending = Buffer.concat([this.pending, rest.subarray(0, wanted)]);
      rest = rest.subarray(wanted);
      if (this.pending.length === this.length) {
        const part = this.pending;
        this.pending = Buffer.alloc(0);
        this.consume(part);
      }
    }
  }

  private consume(part: Buffer): void {
    if (this.need === 'start') {
      if (!part.subarray(0, 8).equals(MAGIC))
        throw new CliError('the server did not send a Coffer backup. Check --url.');
      [this.need, this.length] = ['header', part.readUInt32BE(8)];
    } else if (this.need === 'header') {
      this.header = JSON.parse(part.toString('utf8')) as BackupStreamTap['header'];
      [this.need, this.length] = ['prefix', 9];
    } else if (this.need === 'prefix') {
      this.records += part.readUInt32BE(0);
      this.finalPending = part.readUInt8(4) === 1;
      [this.need, this.length] = ['frame', part.readUInt32BE(5)];
    } else {
      this.complete = this.finalPending;
      [this.need, this.length] = ['prefix', 9];
    }
  }
}
