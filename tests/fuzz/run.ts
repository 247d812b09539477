/**
 * `node --import tsx tests/fuzz/run.ts SEED CASES [FROM]`: prints the FuzzResult as JSON; "case N" on stderr every
 * 200 and at FROM (cases before FROM are made but not analysed).
 */
import { fuzz } from './fuzzer';

const [seed, cases, from = 0] = process.argv.slice(2).map(Number);
const result = fuzz(
  seed!,
  cases!,
  (c) => {
    if (c % 200 === 0 || c === from) process.stderr.write(`case ${c}\n`);
  },
  from,
);
process.stdout.write(JSON.stringify(result));
