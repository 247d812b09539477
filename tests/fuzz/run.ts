/** `node --import tsx tests/fuzz/run.ts SEED CASES`: prints the FuzzResult as JSON; "case N" on stderr every 200. */
import { fuzz } from './fuzzer';

const [seed, cases] = process.argv.slice(2).map(Number);
const result = fuzz(seed!, cases!, (c) => {
  if (c % 200 === 0) process.stderr.write(`case ${c}\n`);
});
process.stdout.write(JSON.stringify(result));
