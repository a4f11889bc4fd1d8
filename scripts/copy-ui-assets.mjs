// The web console's stylesheet and script are part of the package: copied beside the compiled
// console code (tsc copies only TypeScript output), so the server never fetches anything at run time.
import { cpSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const outDir = process.argv[2] ?? 'dist';
cpSync(path.join(root, 'src/ui/assets'), path.join(root, outDir, 'src/ui/assets'), { recursive: true });
