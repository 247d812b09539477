import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { readModelFile } from '../../cli/files';
import { decodeModel } from '../../renderer/src/core/onnx/decode';
import type { Model } from '../../renderer/src/core/onnx/model';
import { ROOT } from './files';

export interface ModelRow {
  file: string;
  large: boolean;
  source?: string;
  expect: Record<string, unknown> & { error?: string };
}

/** The rows of tests/models.json. */
export function modelRows(): ModelRow[] {
  return (JSON.parse(readFileSync(join(ROOT, 'tests/models.json'), 'utf8')) as { models: ModelRow[] }).models;
}

/** The rows of tests/fixtures/models/opsets.json: hand-built residual nets in opsets 18–21. */
export function opsetRows(): (ModelRow & { expect: { ops: string[] } })[] {
  return (
    JSON.parse(readFileSync(join(ROOT, 'tests/fixtures/models/opsets.json'), 'utf8')) as {
      models: (ModelRow & { expect: { ops: string[] } })[];
    }
  ).models;
}

/**
 * Every valid test model (tests/models.json rows that decode, plus the bundled ones), split into those present
 * and those absent (the large torchvision models exist only after `npm run fixtures -- --large`), so a test can
 * list the absent ones as visible skips instead of silently dropping them.
 */
export function validModels(): { present: string[]; absent: string[] } {
  const files = [
    ...modelRows()
      .filter((r) => !r.expect.error)
      .map((r) => r.file),
    ...opsetRows().map((r) => r.file),
    ...['resnet20', 'resnet32', 'resnet44', 'resnet56'].map((m) => `models/cifar10/${m}.onnx`),
  ];
  return {
    present: files.filter((f) => existsSync(resolve(ROOT, f))),
    absent: files.filter((f) => !existsSync(resolve(ROOT, f))),
  };
}

/** Decodes a model file the way the CLI does (external data read from beside it). */
export function decodeFile(file: string): Model {
  const { bytes, resolveExternal } = readModelFile(resolve(ROOT, file));
  return decodeModel(bytes, { name: basename(file), resolveExternal });
}
