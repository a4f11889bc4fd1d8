import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { BadParameter } from '../errors/index.js';

/**
 * The backup file: `MAGIC | u32 header length | header JSON | frame...`, each frame
 * `u32 record count | u8 final | u32 sealed length | AES-256-GCM(records) + tag`. Records are
 * `u32 key length | key | u32 value length | value`. Every frame's nonce is its index and its
 * additional data binds the header's hash, the index, the record count and the final flag
 * (the STREAM construction): a changed byte, a reordered, dropped or repeated frame, a cut after
 * any frame, or a header from another backup fails authentication. The key is per backup
 * (`backupId` is its salt) and never in the file. Record counts stay in clear so a client can
 * show progress without the key.
 */
export const ARCHIVE_MAGIC = Buffer.from('COFFERBK');
export const ARCHIVE_FORMAT = 1;
const MAX_HEADER_BYTES = 64 * 1024;
/** Far above a frame's real size (a batch of records), low enough that a bad length cannot exhaust memory. */
const MAX_FRAME_BYTES = 256 * 1024 * 1024;
const TAG_BYTES = 16;

export interface ArchiveHeader {
  format: number;
  /** `installation`: the whole store (restored offline); `vault`: one vault's objects (Managed HSM shape). */
  kind: 'installation' | 'vault';
  /** Base64 of 16 random bytes: the key derivation's salt. */
  backupId: string;
  createdAt: string;
  records: number;
  [field: string]: unknown;
}

export type ArchiveRecord = [key: string, value: Buffer];

/** A backup file that cannot be used: what is wrong, never anything of its content. */
export class InvalidBackup extends BadParameter {
  constructor(reason: string) {
    super(`The backup is not valid: ${reason}`, 'InvalidBackup');
  }
}

export function encodeHeader(header: ArchiveHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(json.length);
  return Buffer.concat([ARCHIVE_MAGIC, length, json]);
}

function nonceOf(index: number): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64BE(BigInt(index), 4);
  return nonce;
}

function additionalData(headerHash: Buffer, index: number, count: number, final: boolean): Buffer {
  const fields = Buffer.alloc(13);
  fields.writeBigUInt64BE(BigInt(index), 0);
  fields.writeUInt32BE(count, 8);
  fields.writeUInt8(final ? 1 : 0, 12);
  return Buffer.concat([headerHash, fields]);
}

function encodeRecords(records: readonly ArchiveRecord[]): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of records) {
    const keyBytes = Buffer.from(key, 'utf8');
    const lengths = Buffer.alloc(4);
    lengths.writeUInt32BE(keyBytes.length);
    const valueLength = Buffer.alloc(4);
    valueLength.writeUInt32BE(value.length);
    parts.push(lengths, keyBytes, valueLength, value);
  }
  return Buffer.concat(parts);
}

function decodeRecords(plaintext: Buffer, count: number): ArchiveRecord[] {
  const records: ArchiveRecord[] = [];
  let at = 0;
  const take = () => {
    if (at + 4 > plaintext.length) throw new InvalidBackup('a frame holds fewer records than it says.');
    const length = plaintext.readUInt32BE(at);
    if (at + 4 + length > plaintext.length) throw new InvalidBackup('a record runs past its frame.');
    const bytes = plaintext.subarray(at + 4, at + 4 + length);
    at += 4 + length;
    return bytes;
  };
  for (let i = 0; i < count; i++) records.push([take().toString('utf8'), Buffer.from(take())]);
  if (at !== plaintext.length) throw new InvalidBackup('a frame holds more than its records.');
  return records;
}

/** Seals frames in order under one backup's key. */
export class FrameSealer {
  private index = 0;
  private readonly headerHash: Buffer;
  constructor(
    private readonly key: Buffer,
    headerBytes: Buffer,
  ) {
    this.headerHash = createHash('sha256').update(headerBytes).digest();
  }

  seal(records: readonly ArchiveRecord[], final: boolean): Buffer {
    const index = this.index++;
    const cipher = createCipheriv('aes-256-gcm', this.key, nonceOf(index));
    cipher.setAAD(additionalData(this.headerHash, index, records.length, final));
    const sealed = Buffer.concat([
      cipher.update(encodeRecords(records)),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    const prefix = Buffer.alloc(9);
    prefix.writeUInt32BE(records.length, 0);
    prefix.writeUInt8(final ? 1 : 0, 4);
    prefix.writeUInt32BE(sealed.length, 5);
    return Buffer.concat([prefix, sealed]);
  }
}

/** Pulls exact byte counts out of a stream of chunks. */
class ByteReader {
  private buffered: Buffer[] = [];
  private size = 0;
  private readonly source: AsyncIterator<Buffer>;
  constructor(source: AsyncIterable<Buffer>) {
    this.source = source[Symbol.asyncIterator]();
  }

  /** Exactly `count` bytes, or undefined at a clean end of input before the first of them. */
  async read(count: number): Promise<Buffer | undefined> {
    while (this.size < count) {
      const next = await this.source.next();
      if (next.done) {
        if (this.size === 0) return undefined;
        throw new InvalidBackup('the file is cut short (truncated).');
      }
      this.buffered.push(next.value);
      this.size += next.value.length;
    }
    const all = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered);
    this.buffered = all.length > count ? [all.subarray(count)] : [];
    this.size = all.length - count;
    return all.subarray(0, count);
  }
}

export interface OpenedFrame {
  records: ArchiveRecord[];
  final: boolean;
}

/**
 * Reads a backup: `header()` first (no key needed), then `frames(key)` authenticates and
 * decrypts each frame, and fails unless the file ends exactly after its final frame.
 */
export class ArchiveReader {
  private readonly bytes: ByteReader;
  private headerBytes: Buffer | undefined;
  constructor(source: AsyncIterable<Buffer>) {
    this.bytes = new ByteReader(source);
  }

  async header(): Promise<ArchiveHeader> {
    const notBackup = new InvalidBackup('it is not a Coffer backup file.');
    const magic = await this.bytes.read(ARCHIVE_MAGIC.length).catch(() => undefined);
    if (!magic?.equals(ARCHIVE_MAGIC)) throw notBackup;
    const lengthBytes = await this.bytes.read(4);
    if (!lengthBytes) throw new InvalidBackup('the file is cut short (truncated).');
    const start = Buffer.concat([magic, lengthBytes]);
    const length = lengthBytes.readUInt32BE(0);
    if (length > MAX_HEADER_BYTES) throw new InvalidBackup('its header is damaged.');
    const json = await this.bytes.read(length);
    if (!json) throw new InvalidBackup('the file is cut short (truncated).');
    this.headerBytes = Buffer.concat([start, json]);
    let header: ArchiveHeader;
    try {
      header = JSON.parse(json.toString('utf8')) as ArchiveHeader;
    } catch {
      throw new InvalidBackup('its header is damaged.');
    }
    if (header.format !== ARCHIVE_FORMAT) {
      throw new InvalidBackup(
        `it has format ${String(header.format)}; this Coffer reads format ${ARCHIVE_FORMAT}.`,
      );
    }
    return header;
  }

  /** Frames in order with their plaintext record counts, before decryption: for progress. */
  async *frames(key: Buffer): AsyncGenerator<OpenedFrame> {
    if (!this.headerBytes) throw new Error('read the header first');
    const headerHash = createHash('sha256').update(this.headerBytes).digest();
    for (let index = 0; ; index++) {
      const prefix = await this.bytes.read(9);
      if (!prefix) throw new InvalidBackup('the file is cut short (its last part is missing).');
      const count = prefix.readUInt32BE(0);
      const final = prefix.readUInt8(4) === 1;
      const length = prefix.readUInt32BE(5);
      if (length < TAG_BYTES || length > MAX_FRAME_BYTES) throw new InvalidBackup('a frame is damaged.');
      const sealed = await this.bytes.read(length);
      if (!sealed) throw new InvalidBackup('the file is cut short (truncated).');
      const decipher = createDecipheriv('aes-256-gcm', key, nonceOf(index));
      decipher.setAAD(additionalData(headerHash, index, count, final));
      decipher.setAuthTag(sealed.subarray(length - TAG_BYTES));
      let plaintext: Buffer;
      try {
        plaintext = Buffer.concat([
          decipher.update(sealed.subarray(0, length - TAG_BYTES)),
          decipher.final(),
        ]);
      } catch {
        throw new InvalidBackup(
          `frame ${index} fails authentication: the file was altered or damaged, or the key is not this backup's.`,
        );
      }
      yield { records: decodeRecords(plaintext, count), final };
      if (final) {
        if ((await this.bytes.read(1)) !== undefined) throw new InvalidBackup('there is data after its end.');
        return;
      }
    }
  }
}
