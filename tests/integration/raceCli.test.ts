import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main';
import { cudaPresent } from '../../cli/ortNode';
import { parseRunLog, type RaceJson } from '../../renderer/src/lab/train/recorded';
import { skipscope } from '../helpers/cli';

/**
 * `skipscope race` (issue #21): the app's race headless. A tiny race (width 4, 48 images, 3 steps) through the real
 * bin for the schema; bad input is one line and exit 2. The lecture preset's ordering: lecturePreset.test.ts (seed 0)
 * and scripts/sweep-degradation.ts (all five documented seeds).
 */
const dir = mkdtempSync(join(tmpdir(), 'skipscope-race-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('skipscope race', () => {
  it('races networks and prints skipscope.race/1 with final errors and intervals; --json-log writes the same', () => {
    const log = join(dir, 'race.json');
    const run = skipscope(
      'race',
      'plain-8,resnet-8',
      '--width',
      '4',
      '--limit',
      '48',
      '--batch',
      '16',
      '--epochs',
      '1',
      '--seed',
      '3',
      '--warmup',
      '0.3',
      '--bn-momentum',
      '0.2',
      '--json-log',
      log,
      '--json',
    );
    expect(run.stderr.split('\n').filter((l) => l.startsWith('skipscope:'))).toEqual([]);
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout) as RaceJson;
    expect(json.schema).toBe('skipscope.race/1');
    expect(json.complete).toBe(true);
    expect(json.settings).toMatchObject({ seed: 3, warmup: 0.3, normMomentum: 0.2, batch: 16, limit: 48 });
    expect(json.stepsPerEpoch).toBe(3);
    expect(json.nets.map((n) => [n.variant, n.depth, n.width])).toEqual([
      ['plain', 8, 4],
      ['resnet', 8, 4],
    ]);
    for (const n of json.nets) {
      expect(n.finalTrainError).toBeGreaterThanOrEqual(0);
      expect(n.finalTrainError).toBeLessThanOrEqual(1);
      expect(n.interval[0]).toBeLessThanOrEqual(n.finalTrainError);
      expect(n.interval[1]).toBeGreaterThanOrEqual(n.finalTrainError);
      expect(n.steps!.map((s) => s.step)).toEqual([1, 2, 3]);
    }
    // The first 30 % of the steps (1 of 3) at lr/10.
    const written = JSON.parse(readFileSync(log, 'utf8')) as RaceJson;
    expect(written.nets.map((n) => n.finalTrainError)).toEqual(json.nets.map((n) => n.finalTrainError));
    expect(parseRunLog(readFileSync(log, 'utf8'), 'race.json').nets).toHaveLength(2);
  });

  it('bad input: one line, exit 2 (main in-process, as the bin calls it)', async () => {
    const cases: [string[], string][] = [
      [[], 'race needs NETS'],
      [['--preset', 'lectur'], '--preset must be'],
      [['plain-20,dense-56'], 'write them as plain-20,resnet-56'],
      [['plain-7,plain-20'], 'depth 6n+2'],
      [['plain-20'], 'a race takes 2 to 4 networks, got 1'],
      [['plain-20,plain-20,plain-20,plain-20,plain-20'], 'got 5'],
      [['plain-8,resnet-8', '--lr', '0'], '--lr'],
      [['plain-8,resnet-8', '--warmup', '2'], '--warmup'],
      [['plain-8,resnet-8', '--augment', '--no-augment'], 'contradict'],
      [['plain-8,resnet-8', '--data', 'x', '--cifar-bin', 'y'], 'not both'],
      [['plain-8,resnet-8', 'resnet-20,plain-20'], 'at most one'],
      [['plain-8,resnet-8', '--cifar-bin', join(dir, 'missing.bin')], 'missing.bin: no such file'],
      [['plain-8,resnet-8', '--json-log', join(dir, 'no/such/log.json')], 'does not exist'],
      // A provider asked for by name that cannot start here is the user's setting, not a bug (no CUDA here).
      ...(cudaPresent()
        ? []
        : [
            [
              ['plain-8,resnet-8', '--epochs', '1', '--limit', '8', '--width', '2', '--provider', 'cuda'],
              '--provider cuda: onnxruntime-node could not start it here',
            ] as [string[], string],
          ]),
    ];
    for (const [args, message] of cases) {
      const errors: string[] = [];
      const code = await main(
        ['race', ...args],
        () => {},
        (s) => errors.push(s),
      );
      expect(code, args.join(' ')).toBe(2);
      const lines = errors.join('\n').trim().split('\n');
      expect(lines, args.join(' ')).toHaveLength(1);
      expect(lines[0]).toContain(message);
    }
  });
});
