/**
 * `node --import tsx tests/fuzz/cliRun.ts SEED CASES`: the structured fuzzer (tests/fuzz/structured.ts); prints
 * its StructuredResult as JSON on stdout, and "case N" on stderr before every case (the watchdog's clue).
 */
import { fuzzCli } from './structured';

const [seed, cases] = process.argv.slice(2).map(Number);
// The CLI's progress lines go to stderr too; the per-case line is what the test reads.
const result = await fuzzCli(seed!, cases!, (c) => process.stderr.write(`case ${c}\n`));
process.stdout.write(JSON.stringify(result));
