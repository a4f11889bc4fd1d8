import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CliError } from './errors.js';

/**
 * Files the CLI reads and writes for people. What it writes can be a secret, a private key or a
 * backup, so it is created with mode 0600 (never readable by others, whatever the umask), never
 * replaces an existing file unless asked, and appears whole or not at all.
 */

export interface WriteOptions {
  /** Replace an existing file (`--overwrite`). */
  overwrite?: boolean;
  /** The option that named the file, for the error message (default --file). */
  option?: string;
}

export function writePrivateFile(path: string, data: string | Uint8Array, options: WriteOptions = {}): void {
  const option = options.option ?? '--file';
  if (!options.overwrite && existsSync(path)) {
    throw new CliError(
      `${path} already exists. Choose another ${option}, or pass --overwrite to replace it.`,
    );
  }
  // Written beside the target and renamed over it, so a reader never sees half a file and an
  // existing file's looser mode never carries over.
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(temporary, 'wx', 0o600);
  } catch (error) {
    throw fileFailure(error, `cannot write in ${dirname(path)}`, `Check ${option}`);
  }
  try {
    chmodSync(temporary, 0o600);
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fsyncSync(fd);
    closeSync(fd);
    if (!options.overwrite && existsSync(path)) {
      throw new CliError(`${path} appeared while writing it. Choose another ${option}, or pass --overwrite.`);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    if (error instanceof CliError) throw error;
    throw fileFailure(error, `cannot write ${path}`, `Check ${option}`);
  }
}

/** A folder for many private files (a vault backup): created with mode 0700 when missing. */
export function ensurePrivateDirectory(path: string): void {
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw fileFailure(error, `cannot create the folder ${path}`, 'Check --directory');
  }
}

/** Reads a file named by an option; a failure says which option to fix. */
export function readInputFile(path: string, option: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw fileFailure(error, `cannot read ${path}`, `Check ${option}`);
  }
}

/** `--policy @file.json` or `--policy '{...}'`, as az takes JSON arguments. */
export function readJsonArgument(text: string, option: string, example: string): unknown {
  const fromFile = text.startsWith('@');
  const source = fromFile ? readInputFile(text.slice(1), option).toString('utf8') : text;
  try {
    return JSON.parse(source);
  } catch {
    const what = fromFile ? `${text.slice(1)} does not hold` : `${option} is not`;
    throw new CliError(`${what} valid JSON. Pass ${option} @FILE.json or inline JSON such as ${example}.`);
  }
}

function fileFailure(error: unknown, what: string, next: string): CliError {
  const code = (error as NodeJS.ErrnoException).code ?? 'error';
  const reason =
    code === 'ENOENT' ? 'no such file or folder' : code === 'EACCES' ? 'permission denied' : code;
  return new CliError(`${what} (${reason}). ${next}.`);
}
