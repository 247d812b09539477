/**
 * `node --import tsx tests/fuzz/analyze.ts FILE…`: analyses each model as the app opens it and prints one JSON line
 * per file: { file, blocks } or { file, error, message }. Run as a child under a time limit by tests whose inputs
 * once made the analysis loop forever (a hang there would freeze the test run itself).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { ModelError } from '../../renderer/src/core/onnx/model';
import { analyzeModel } from '../../renderer/src/core/summary';

for (const file of process.argv.slice(2)) {
  const b = readFileSync(file);
  try {
    const a = analyzeModel(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), basename(file));
    console.log(JSON.stringify({ file: basename(file), blocks: a.topology.blocks.length }));
  } catch (error) {
    const kind = error instanceof ModelError ? 'ModelError' : String((error as Error)?.name ?? error);
    console.log(JSON.stringify({ file: basename(file), error: kind, message: (error as Error).message }));
  }
}
