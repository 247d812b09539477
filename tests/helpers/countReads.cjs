// Preloaded with `node --require`: counts the bytes the process reads through node:fs (readFileSync, readSync) and
// writes the total to the file named by SKIPSCOPE_READS_FILE when it exits. Tests use it to show that a command
// reads only what it needs of a big file (the CLI bundle calls node:fs through its module object, so it sees these).
const fs = require('node:fs');
let total = 0;
const readFileSync = fs.readFileSync;
fs.readFileSync = function (...args) {
  const result = readFileSync.apply(this, args);
  total += typeof result === 'string' ? Buffer.byteLength(result) : result.byteLength;
  return result;
};
const readSync = fs.readSync;
fs.readSync = function (...args) {
  const n = readSync.apply(this, args);
  total += n;
  return n;
};
process.on('exit', () => {
  if (process.env.SKIPSCOPE_READS_FILE) fs.writeFileSync(process.env.SKIPSCOPE_READS_FILE, String(total));
});
