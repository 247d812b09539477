/**
 * `npx tsx scripts/bench-readme.ts FILE [README]`: rewrites the README's bench table (between the bench markers)
 * from a saved `npm run bench -- --json FILE` report. `npm run bench -- --json FILE --readme` does both at once.
 */
import { resolve } from 'node:path';
import { readReport, updateReadme } from './bench-rows';

const [file, readme = resolve(import.meta.dirname, '../README.md')] = process.argv.slice(2);
if (!file) {
  console.error('usage: npx tsx scripts/bench-readme.ts REPORT.json [README.md]');
  process.exit(2);
}
updateReadme(readme, readReport(file));
console.log(`${readme}: bench table rewritten from ${file}`);
