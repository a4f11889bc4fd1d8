import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError, sentence } from '../errors.js';
import { addOutputOption, outputFormat } from '../options.js';
import { printResult } from '../output.js';
import { readSecretLine } from '../prompt.js';

/**
 * `coffer hsm ...`: set-up of the PKCS#11 token, run on the server's machine against its
 * library, like `coffer server` and unlike the other commands (HTTPS clients of a server): it
 * needs the token's security officer PIN, which never travels to the server.
 */

// Loaded on demand, as the server is: the other commands never load a PKCS#11 module.
const BACKUP_KEY_MODULE = new URL('../../crypto/keys/pkcs11/backup-key.js', import.meta.url).href;

interface Flags {
  config?: string;
  library?: string;
  tokenLabel?: string;
  slot?: string;
  label?: string;
}

export function registerHsmCommands(program: Command): void {
  const hsm = program.command('hsm').description('set up the PKCS#11 token (runs locally, not over HTTPS)');
  addOutputOption(
    hsm
      .command('create-backup-key')
      .description(
        'create the CKA_TRUSTED key that wraps HSM keys in backups (security officer PIN in COFFER_PKCS11_SO_PIN or a prompt)',
      )
      .option('--config <file>', 'configuration file whose pkcs11 section names the token')
      .option('--library <path>', 'PKCS#11 library (default: pkcs11.library, COFFER_PKCS11_LIBRARY)')
      .option('--token-label <label>', 'token label (default: pkcs11.tokenLabel, COFFER_PKCS11_TOKEN_LABEL)')
      .option('--slot <id>', 'slot id, when the token is not chosen by label')
      .option('--label <label>', 'label of the key (default: pkcs11.backupKeyLabel, else coffer-backup)'),
  ).action(async (_options: unknown, command: Command) => {
    const where = tokenOf(command.opts<Flags>());
    const soPin = process.env.COFFER_PKCS11_SO_PIN || (await readSecretLine('Security officer PIN: '));
    const module = (await import(
      BACKUP_KEY_MODULE
    )) as typeof import('../../crypto/keys/pkcs11/backup-key.js');
    try {
      await module.createHsmBackupKey({ ...where, soPin });
    } catch (error) {
      throw new CliError(sentence((error as Error).message));
    }
    const result = { label: where.label, tokenLabel: where.tokenLabel, slot: where.slot };
    printResult(
      outputFormat(command),
      result,
      () =>
        `Created the HSM backup key '${where.label}'. Set pkcs11.backupKeyLabel (COFFER_PKCS11_BACKUP_KEY_LABEL) to it and restart the server: HSM keys made from then on can be backed up.`,
    );
  });
}

function tokenOf(flags: Flags) {
  const file = flags.config ?? process.env.COFFER_CONFIG;
  const section = file ? pkcs11Section(file) : {};
  const pick = (flag: string | undefined, variable: string, key: string) =>
    flag ??
    (process.env[variable] || undefined) ??
    (section[key] === undefined ? undefined : String(section[key]));
  const library = pick(flags.library, 'COFFER_PKCS11_LIBRARY', 'library');
  const tokenLabel = pick(flags.tokenLabel, 'COFFER_PKCS11_TOKEN_LABEL', 'tokenLabel');
  const slot = pick(flags.slot, 'COFFER_PKCS11_SLOT', 'slot');
  if (!library)
    throw new CliError(
      'name the PKCS#11 library: --library PATH, COFFER_PKCS11_LIBRARY or pkcs11.library in --config.',
    );
  if (tokenLabel === undefined && slot === undefined)
    throw new CliError('name the token: --token-label LABEL or --slot ID.');
  const label = pick(flags.label, 'COFFER_PKCS11_BACKUP_KEY_LABEL', 'backupKeyLabel') ?? 'coffer-backup';
  return { library, tokenLabel, slot: slot === undefined ? undefined : Number(slot), label };
}

function pkcs11Section(file: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { pkcs11?: Record<string, unknown> };
    return parsed.pkcs11 ?? {};
  } catch (error) {
    throw new CliError(`cannot read the pkcs11 section of ${file}: ${(error as Error).message}.`);
  }
}
