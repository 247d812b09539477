/**
 * Results of experiments, keyed by what determines them: the model's sha256, the experiment, its parameters
 * and the data set. The store keeps keys; views read values from here.
 */

export interface CacheKeyParts {
  model: string;
  experiment: string;
  params: unknown;
  data: string;
}

/** A stable key: parameters are serialised with sorted object keys, so {a, b} and {b, a} are the same. */
export function cacheKey(parts: CacheKeyParts): string {
  return `${parts.model}|${parts.experiment}|${stableJson(parts.params)}|${parts.data}`;
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

/** An in-memory cache with least-recently-used eviction beyond `capacity` entries. */
export class ResultCache {
  private readonly entries = new Map<string, unknown>();
  private readonly listeners = new Set<() => void>();
  /** Increases with every change: a snapshot value for React's useSyncExternalStore. */
  version = 0;

  constructor(private readonly capacity = 200) {}

  get<T>(key: string | null | undefined): T | undefined {
    if (!key || !this.entries.has(key)) return undefined;
    const value = this.entries.get(key);
    this.entries.delete(key);
    this.entries.set(key, value);
    return value as T;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  set(key: string, value: unknown): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.version++;
    for (const l of this.listeners) l();
  }

  /** Called after every change (React's useSyncExternalStore subscribes with it). */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
