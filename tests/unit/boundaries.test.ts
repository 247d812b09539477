import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/files';

/**
 * The layers of docs/architecture.md, enforced: every import of every source file is read and checked against
 * what its layer may use. Layers are folders; packages are named by their npm name.
 */
const LAYERS: Record<string, { may: string[]; packages: string[] }> = {
  'renderer/src/core': { may: [], packages: ['protobufjs'] },
  'renderer/src/data': { may: ['core'], packages: [] },
  'renderer/src/lab': { may: ['core', 'data'], packages: [] },
  'renderer/src/runtime': { may: ['core', 'lab'], packages: ['onnxruntime-web'] },
  'renderer/src/worker': { may: ['core', 'data', 'lab', 'runtime'], packages: [] },
  'renderer/src/host': { may: ['core', 'electron/contract'], packages: [] },
  'renderer/src/store': { may: ['core', 'data', 'lab', 'host', 'worker'], packages: ['react', 'zustand'] },
  'renderer/src/scene': { may: ['core'], packages: ['react', 'three', '@react-three/fiber', 'd3-scale-chromatic'] },
  // react-dom: charts draw on the stage through a portal (ui/common/charts/Chart.tsx).
  'renderer/src/ui': {
    may: ['core', 'data', 'lab', 'host', 'store', 'scene', 'worker'],
    packages: ['react', 'react-dom'],
  },
  'renderer/src/main.tsx': { may: ['core', 'lab', 'host', 'store', 'scene', 'ui', 'worker'], packages: ['react-dom'] },
  electron: { may: ['core', 'scripts/http.mjs'], packages: ['electron'] },
  cli: { may: ['core', 'data', 'lab'], packages: ['onnxruntime-node', 'sharp'] },
};

/** Named layers that an import can land in (longest prefix wins). */
const TARGETS: Record<string, string> = {
  'renderer/src/core': 'core',
  'renderer/src/data': 'data',
  'renderer/src/lab': 'lab',
  'renderer/src/runtime': 'runtime',
  'renderer/src/worker': 'worker',
  'renderer/src/host': 'host',
  'renderer/src/store': 'store',
  'renderer/src/scene': 'scene',
  'renderer/src/ui': 'ui',
  'electron/contract.ts': 'electron/contract',
  'scripts/http.mjs': 'scripts/http.mjs',
  electron: 'electron',
  cli: 'cli',
};

function sources(dir: string): string[] {
  return readdirSync(resolve(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return /\.(ts|tsx)$/.test(e.name) && !/\.(test|d)\.ts$/.test(e.name) ? [path] : [];
  });
}

function layerOf(path: string): string | null {
  const key = Object.keys(LAYERS)
    .filter((l) => path === l || path.startsWith(`${l}/`))
    .sort((a, b) => b.length - a.length)[0];
  return key ?? null;
}

function targetOf(path: string): string | null {
  const key = Object.keys(TARGETS)
    .filter(
      (t) => path === t || path.startsWith(`${t}/`) || path.replace(/\.(ts|tsx|js)$/, '') === t.replace(/\.ts$/, ''),
    )
    .sort((a, b) => b.length - a.length)[0];
  return key ? TARGETS[key]! : null;
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*'([^']+)'|import\(\s*'([^']+)'\s*\)|new URL\('([^']+\.ts)'/g;

/** The imports of `file` (with source `text`) that its layer may not use. */
function violationsOf(file: string, text: string): string[] {
  const layer = layerOf(file);
  if (!layer) return [];
  const rule = LAYERS[layer]!;
  const own = TARGETS[layer] ?? layer;
  const violations: string[] = [];
  for (const match of text.matchAll(IMPORT)) {
    const spec = match[1] ?? match[2] ?? match[3]!;
    if (spec.startsWith('node:')) {
      if (file.startsWith('renderer/')) violations.push(`${file}: ${spec} (Node built-ins stay out of the renderer)`);
      continue;
    }
    if (!spec.startsWith('.')) {
      const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
      const allowed = rule.packages.includes(pkg) || (pkg === 'react' && spec.startsWith('react'));
      if (!allowed) violations.push(`${file}: package ${spec}`);
      continue;
    }
    const target = relative(ROOT, resolve(ROOT, dirname(file), spec));
    const to = targetOf(target);
    if (to === own || (to && rule.may.includes(to))) continue;
    // A layer may always import its own files (main.tsx has none).
    if (layer !== 'renderer/src/main.tsx' && target.startsWith(`${layer}/`)) continue;
    violations.push(`${file}: ${spec} (${to ?? target})`);
  }
  return violations;
}

/**
 * Results and progress partials keep their types from the lab protocol all the way to the views (store/store.ts
 * useJob, lab/cache.ts ResultCache, lab/jobTable.ts JobTable): in ui/ and store/ no code casts them back.
 */
const RESULT_CASTS: [RegExp, string][] = [
  [/\bcache\.get<|\.get<[A-Z]\w*>\(/, 'a result read with a type argument (name the experiment instead)'],
  [/\bpartial\s+as\b/, 'a progress partial cast'],
  [/\bas\s+unknown\s+as\b/, 'a cast through unknown'],
  [/\bas\s+never\b/, 'a cast to never'],
  [
    /\bas\s+\(?[A-Z]\w*(Result|Partial|Study|View|Comparison|Evaluation|Score|Prediction|Job|State)\b/,
    'a result type cast',
  ],
];

function resultCastsOf(file: string, text: string): string[] {
  if (!/^renderer\/src\/(ui|store)\//.test(file)) return [];
  const found: string[] = [];
  for (const [line, source] of text.split('\n').entries()) {
    const kind = RESULT_CASTS.find(([pattern]) => pattern.test(source));
    if (kind) found.push(`${file}:${line + 1}: ${kind[1]}: ${source.trim()}`);
  }
  return found;
}

describe('layer boundaries (docs/architecture.md)', () => {
  const files = [...sources('renderer/src'), ...sources('electron'), ...sources('cli')];

  it(`every import of the ${files.length} source files is allowed for its layer`, () => {
    expect(files.flatMap((file) => violationsOf(file, readFileSync(resolve(ROOT, file), 'utf8')))).toEqual([]);
  });

  it('no result or partial is cast in ui/ or store/', () => {
    const casts = files.flatMap((file) => resultCastsOf(file, readFileSync(resolve(ROOT, file), 'utf8')));
    expect(casts).toEqual([]);
    // The checker finds each kind of cast.
    const bad = [
      'const r = cache.get<GradientView>(key);',
      'const p = job.progress?.partial as SweepPartial | undefined;',
      'const s = services as unknown as Services;',
      'return landscapeStudy(x, job as never);',
      'const d = (data as LandscapePartial).done;',
      'const j = s.jobs[key] as JobState;',
    ];
    expect(bad.map((line) => resultCastsOf('renderer/src/ui/Bad.tsx', line).length)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(resultCastsOf('renderer/src/lab/cache.ts', bad[0]!)).toEqual([]);
    expect(resultCastsOf('renderer/src/ui/Ok.tsx', "const kinds = ['a', 'b'] as const;")).toEqual([]);
  });

  it('the checker catches forbidden imports', () => {
    const core =
      "import { x } from '../../store/store';\nimport * as ort from 'onnxruntime-web';\nimport fs from 'node:fs';";
    expect(violationsOf('renderer/src/core/onnx/bad.ts', core)).toEqual([
      'renderer/src/core/onnx/bad.ts: ../../store/store (store)',
      'renderer/src/core/onnx/bad.ts: package onnxruntime-web',
      'renderer/src/core/onnx/bad.ts: node:fs (Node built-ins stay out of the renderer)',
    ]);
    expect(violationsOf('electron/main/bad.ts', "import { Host } from '../../renderer/src/host/host';")).toHaveLength(
      1,
    );
    expect(violationsOf('cli/bad.ts', "import { App } from '../renderer/src/ui/App';")).toHaveLength(1);
    expect(violationsOf('renderer/src/ui/bad.tsx', "import * as THREE from 'three';")).toHaveLength(1);
    expect(
      violationsOf('renderer/src/lab/ok.ts', "import { x } from '../core/text';\nimport { y } from './cache';"),
    ).toEqual([]);
  });
});
