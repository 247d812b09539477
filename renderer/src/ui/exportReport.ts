import { toInspectJson } from '../core/report';
import { registry, requireHost } from '../store/registry';

/** Saves the open model's structure report (the same JSON as `skipscope inspect --json`). */
export async function exportReport(): Promise<void> {
  const loaded = registry.loaded;
  if (!loaded) return;
  const file = loaded.analysis.model.name;
  const json = JSON.stringify(toInspectJson(file, loaded.analysis), null, 2);
  const bytes = new TextEncoder().encode(json);
  const name = `${file.replace(/\.onnx$/i, '')}.skipscope.json`;
  const host = requireHost();
  if (host.saveFile) {
    await host.saveFile(name, bytes.buffer);
    return;
  }
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
