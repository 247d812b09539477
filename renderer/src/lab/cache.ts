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

/**
 * An in-memory cache of results by key, with least-recently-used eviction beyond `capacity` entries. Each entry
 * remembers which experiment made it, so a read names the experiment and gets that experiment's result type:
 * `R` maps experiment names to result types (the store uses the lab protocol's LabResults).
 */
export class ResultCache<R extends object = Record<string, unknown>> {
  private readonly entries = new Map<string, { experiment: keyof R; value: unknown }>();
  private readonly listeners = new Set<() => void>();
  /** Increases with every change: a snapshot value for React's useSyncExternalStore. */
  version = 0;

  constructor(private readonly capacity = 200) {}

  /** The result `experiment` stored under `key`, or undefined (none, or another experiment's). */
  get<E extends keyof R>(experiment: E, key: string | null | undefined): R[E] | undefined {
    const entry = key ? this.entries.get(key) : undefined;
    if (!key || !entry || entry.experiment !== experiment) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    // The one place a result meets its type: entries are only written by set() with the same experiment.
    return entry.value as R[E];
  }

  /** Every stored result of `experiment`, with its key (oldest use first); reading does not refresh them. */
  list<E extends keyof R>(experiment: E): [string, R[E]][] {
    return [...this.entries].flatMap(([key, e]) => (e.experiment === experiment ? [[key, e.value as R[E]]] : []));
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  set<E extends keyof R>(experiment: E, key: string, value: R[E]): void {
    this.entries.delete(key);
    this.entries.set(key, { experiment, value });
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.changed();
  }

  delete(key: string): void {
    if (this.entries.delete(key)) this.changed();
  }

  /** Called after every change (React's useSyncExternalStore subscribes with it). */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    this.version++;
    for (const l of this.listeners) l();
  }
}
