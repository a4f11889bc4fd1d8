// `node --import ./scripts/sdk-from-dir.mjs`: with COFFER_SDK_DIR set to an install directory
// (scripts/install-newest-sdks.mjs makes .sdk-newest/), the Azure SDK packages the tests import
// come from there instead of the project's pinned node_modules.
import { register } from 'node:module';
import path from 'node:path';

const dir = process.env.COFFER_SDK_DIR;
if (dir) register('./sdk-resolve-hook.mjs', import.meta.url, { data: { dir: path.resolve(dir) } });
