// A throwaway SoftHSM2 token for the HSM scenarios: its own config and token directory under
// the bench's work dir, initialised with softhsm2-util (Debian's softhsm2 package).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const LIBRARIES = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so'];

/** Resolves to the environment a Coffer server needs to keep -HSM keys in the new token. */
export function createBenchToken(workDir) {
  const library = LIBRARIES.find((file) => existsSync(file));
  if (!library) throw new Error('the HSM scenarios need SoftHSM2: apt-get install softhsm2');
  const tokenDir = path.join(workDir, 'softhsm-tokens');
  mkdirSync(tokenDir, { recursive: true });
  const conf = path.join(workDir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const pin = 'bench-user-pin';
  execFileSync(
    'softhsm2-util',
    ['--init-token', '--free', '--label', 'coffer-bench', '--so-pin', 'bench-so-pin', '--pin', pin],
    { env: { ...process.env, SOFTHSM2_CONF: conf }, stdio: 'ignore' },
  );
  return {
    SOFTHSM2_CONF: conf,
    COFFER_PKCS11_LIBRARY: library,
    COFFER_PKCS11_TOKEN_LABEL: 'coffer-bench',
    COFFER_PKCS11_PIN: pin,
  };
}
