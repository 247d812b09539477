import { toInspectJson } from '../../core/report';
import type { Analysis } from '../../core/summary';
import type { Host } from '../../host/host';

/** Saves bytes through the host's save dialog (desktop) or as a browser download. */
export async function saveBytes(host: Host, name: string, bytes: Uint8Array, type: string): Promise<void> {
  if (host.saveFile) {
    await host.saveFile(name, bytes.slice().buffer);
    return;
  }
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Saves the open model's structure report (the same JSON as `skipscope inspect --json`). */
export async function exportReport(analysis: Analysis, host: Host): Promise<void> {
  const file = analysis.model.name;
  const json = JSON.stringify(toInspectJson(file, analysis), null, 2);
  await saveBytes(
    host,
    `${file.replace(/\.onnx$/i, '')}.skipscope.json`,
    new TextEncoder().encode(json),
    'application/json',
  );
}
