import { createPublicKey, type KeyObject } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { type Command, Option } from 'commander';
// The one piece of server code the CLI runs: the pure, offline verifier (no I/O, no server state).
import { LogVerifier, type Problem, type VerifySummary } from '../../audit/verify.js';
import { CliError } from '../errors.js';
import { addOutputOption, outputFormat, parseInteger } from '../options.js';
import { printResult } from '../output.js';
import { renderProperties } from '../table.js';

/** What the server writes beside the log (src/audit/setup.ts). */
const KEY_FILE = 'checkpoint-public-key.pem';

/**
 * `coffer audit verify FILE...`: offline, on files. Proves the log complete and unmodified
 * against a trusted checkpoint key, or names the first record where it is not (exit 1).
 */
export function registerAuditVerifyCommand(audit: Command): void {
  const command = audit
    .command('verify')
    .description('check audit log files offline: chain, checkpoints and signatures')
    .argument('<files...>', 'log files in order (a shell glob such as DIR/audit-*.jsonl sorts them)')
    .addOption(
      new Option(
        '--public-key <file>',
        `trusted checkpoint public key, PEM (repeat for older keys); default: ${KEY_FILE} beside the log, with a warning`,
      ).argParser((value: string, previous: string[] = []) => [...previous, value]),
    )
    .option(
      '--from-sequence <n>',
      'the files start here on purpose (older files were removed)',
      parseInteger(1, Number.MAX_SAFE_INTEGER),
    )
    .option('--live', 'the server is still writing: accept records after the last checkpoint');
  addOutputOption(command);
  command.action(
    async (files: string[], options: { publicKey?: string[]; fromSequence?: number; live?: boolean }) => {
      const keyFiles = options.publicKey?.length ? options.publicKey : [keyBesideLog(files[0]!)];
      const verifier = new LogVerifier({
        publicKeys: keyFiles.map(readPublicKey),
        fromSequence: options.fromSequence,
        live: options.live,
      });
      for (const file of files) await feedFile(verifier, file);
      const { problem, summary } = verifier.finish();
      const settings = outputFormat(command);
      // A person reads the problem from stderr's one line; a script gets the whole verdict.
      if (settings.format === 'table' && problem) throw new CliError(problemLine(problem));
      printResult(settings, { intact: !problem, problem, summary }, () =>
        renderSummary(summary, options.live === true),
      );
      if (problem) throw new CliError(problemLine(problem));
    },
  );
}

/**
 * Without --public-key: the key the server wrote beside the log. That proves the log consistent
 * with the key kept next to it, not who wrote both: said on stderr, every time.
 */
function keyBesideLog(firstFile: string): string {
  const file = path.join(path.dirname(firstFile), KEY_FILE);
  if (!existsSync(file)) {
    throw new CliError(
      `pass --public-key FILE (there is no ${KEY_FILE} beside the log): the checkpoint key you trust. Get it with \`coffer audit public-key > audit-key.pem\` and keep it where whoever can write the log cannot change it.`,
    );
  }
  process.stderr.write(
    `coffer: warning: trusting ${file}, which sits beside the log: whoever can rewrite the log can replace it. Pass --public-key with a copy kept apart to prove who wrote the log.\n`,
  );
  return file;
}

function readPublicKey(file: string): KeyObject {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(
      `cannot read the public key ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}). Check --public-key.`,
    );
  }
  try {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('not Ed25519');
    return key;
  } catch {
    throw new CliError(
      `${file} is not an Ed25519 public key in PEM. Get the right one with \`coffer audit public-key\`.`,
    );
  }
}

async function feedFile(verifier: LogVerifier, file: string): Promise<void> {
  const stream = createReadStream(file, { encoding: 'utf8' });
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (error: NodeJS.ErrnoException) =>
      reject(new CliError(`cannot read ${file} (${error.code ?? 'error'}). Check the file names.`)),
    );
  });
  await opened;
  let line = 0;
  for await (const text of createInterface({ input: stream, crlfDelay: Infinity }))
    verifier.feed(file, ++line, text);
}

function problemLine(problem: Problem): string {
  const where = problem.file ? `${problem.file}:${problem.line}` : '';
  return `NOT INTACT${where ? ` at ${where}` : ''}: ${problem.message}.`;
}

function renderSummary(summary: VerifySummary, live: boolean): string {
  const checkpoint = summary.lastCheckpoint;
  return (
    `Intact: records ${summary.firstSequence} to ${summary.lastSequence} are complete and unmodified.\n` +
    renderProperties([
      ['Records', summary.records],
      ['Checkpoints', summary.checkpoints],
      [
        'Last checkpoint',
        checkpoint ? `record ${checkpoint.sequence} (${checkpoint.reason}, ${checkpoint.time})` : 'none',
      ],
      ...(live
        ? [['Unsigned tail (--live)', `${summary.unsignedTail} record(s) after the last checkpoint`] as const]
        : []),
    ])
  );
}
