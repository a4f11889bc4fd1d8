import { parentPort, workerData } from 'node:worker_threads';
import { checkDataFileAt } from './file-check.js';

// integrity_check reads the whole file: on its own thread and connection it blocks no request.
parentPort!.postMessage(checkDataFileAt((workerData as { file: string }).file, 'full'));
