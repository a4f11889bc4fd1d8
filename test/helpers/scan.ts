import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Every regular file under `dir`, recursively, as absolute paths. A running server renames and
 * deletes files (cursors, temporary files) between the listing and the stat: those are skipped.
 */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    const stat = statSync(full, { throwIfNoEntry: false });
    if (stat?.isDirectory()) return filesUnder(full);
    return stat?.isFile() ? [full] : [];
  });
}

export interface Needle {
  form: string;
  bytes: Buffer;
}

/**
 * The forms in which a value could sit in a file or a log: raw UTF-8 (and UTF-16LE for text),
 * base64 and base64url at each of the three alignments it can have inside a longer encoded
 * string, and hex in both cases.
 */
export function encodedForms(value: string | Buffer): Needle[] {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const needles: Needle[] = [{ form: 'raw', bytes }];
  if (typeof value === 'string') needles.push({ form: 'utf16le', bytes: Buffer.from(value, 'utf16le') });
  for (const encoding of ['base64', 'base64url'] as const) {
    for (let offset = 0; offset < 3; offset++) {
      const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString(encoding);
      // Only the characters that depend on nothing but the value itself.
      const start = Math.ceil((8 * offset) / 6);
      const end = Math.floor((8 * (offset + bytes.length)) / 6);
      needles.push({
        form: `${encoding}@${offset}`,
        bytes: Buffer.from(encoded.slice(start, end), 'latin1'),
      });
    }
  }
  const hex = bytes.toString('hex');
  needles.push(
    { form: 'hex', bytes: Buffer.from(hex) },
    { form: 'HEX', bytes: Buffer.from(hex.toUpperCase()) },
  );
  return needles;
}

/** The forms of `value` found in `haystack`, as "form" strings; empty when none is there. */
export function leakedForms(haystack: Buffer, value: string | Buffer): string[] {
  return encodedForms(value)
    .filter((needle) => haystack.includes(needle.bytes))
    .map((needle) => needle.form);
}

/** `{file, forms}` for every one of `files` that holds `value` in any encoded form. */
export function leaksInFiles(files: string[], value: string | Buffer): { file: string; forms: string[] }[] {
  return files
    .map((file) => ({ file, forms: leakedForms(readIfThere(file), value) }))
    .filter((leak) => leak.forms.length > 0);
}

/** The file's bytes, or none when it went between the listing and the read (see filesUnder). */
function readIfThere(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
    throw error;
  }
}
