// Regenerates the static protobuf decoder/encoder for onnx.proto (no eval at run time, CSP-safe).
// Run: npm run gen:proto. The output is committed so that builds need no code generation.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const dir = 'renderer/src/core/onnx';
const bin = 'node_modules/.bin';
execFileSync(
  `${bin}/pbjs`,
  [
    '-t',
    'static-module',
    '-w',
    'es6',
    '--no-create',
    '--no-verify',
    '--no-convert',
    '--no-delimited',
    '--no-service',
    '--no-typeurl',
    '-o',
    `${dir}/onnxProto.js`,
    `${dir}/onnx.proto`,
  ],
  { stdio: 'inherit' },
);
// protobufjs/minimal is CommonJS; a default import is what both Vite and Node's ESM loader agree on.
const js = readFileSync(`${dir}/onnxProto.js`, 'utf8').replace(
  'import * as $protobuf from "protobufjs/minimal";',
  'import $protobuf from "protobufjs/minimal.js";',
);
writeFileSync(`${dir}/onnxProto.js`, js);
execFileSync(`${bin}/pbts`, ['-o', `${dir}/onnxProto.d.ts`, `${dir}/onnxProto.js`], { stdio: 'inherit' });
