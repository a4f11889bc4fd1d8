// Command-line options of bench/run.mjs.
import { parseArgs } from 'node:util';

export function readOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '10' },
      concurrency: { type: 'string', default: '1,32' },
      scale: { type: 'string', default: '1000,100000' },
      'no-scale': { type: 'boolean', default: false },
      'no-barbican': { type: 'boolean', default: false },
      'no-openssl': { type: 'boolean', default: false },
      loadgen: { type: 'string' },
      out: { type: 'string' },
      'no-readme': { type: 'boolean', default: false },
    },
  });
  const list = (s) => s.split(',').filter(Boolean).map(Number);
  return {
    durationS: Number(values.duration),
    concurrencies: list(values.concurrency),
    scaleSizes: values['no-scale'] ? [] : list(values.scale),
    barbican: !values['no-barbican'],
    openssl: !values['no-openssl'],
    loadgen: values.loadgen,
    outDir: values.out,
    readme: !values['no-readme'],
  };
}
