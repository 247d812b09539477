import type { NetworkLayout } from '../core/layout/layout';
import type { Analysis } from '../core/summary';
import type { LabelledImages } from '../data/cifar';
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
  runner: Promise<ModelRunner> | null;
}

export const registry: {
  host: Host | null;
  loaded: Loaded | null;
  evalSets: Map<string, Promise<LabelledImages>>;
  labelSets: Map<string, Promise<string[]>>;
} = {
  host: null,
  loaded: null,
  evalSets: new Map(),
  labelSets: new Map(),
};

export function requireHost(): Host {
  if (!registry.host) throw new Error('host not initialised');
  return registry.host;
}
