import type { NetworkLayout } from '../core/layout/layout';
import type { Analysis } from '../core/summary';
import type { Host } from '../host/host';
import type { ModelRunner } from '../runtime/session';

/**
 * Big, non-reactive objects live here, keyed by what the store holds (ids and versions), so the
 * zustand store stays small and cheap to compare (zustand's "transient updates" advice).
 */
export interface Loaded {
  modelId: string;
  analysis: Analysis;
  layout: NetworkLayout;
  labels: string[];
  /** Name of the label set the labels come from ('cifar10', 'imagenet'), when known. */
  labelSet: string | undefined;
  runner: Promise<ModelRunner> | null;
}

export const registry: {
  host: Host | null;
  loaded: Loaded | null;
  /** The user's own image for the Run panel (kept as the file, decoded per model resolution). */
  customImage: File | null;
} = {
  host: null,
  loaded: null,
  customImage: null,
};

export function requireHost(): Host {
  if (!registry.host) throw new Error('host not initialised');
  return registry.host;
}
