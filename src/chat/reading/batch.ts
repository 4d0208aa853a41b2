import DataLoader from 'dataloader';

/** A value now, or later. */
export type Maybe<T> = T | Promise<T>;

/** Applies `fn` to a value now or later: a value at hand is answered without a promise. */
export function then<T, R>(value: Maybe<T>, fn: (value: T) => Maybe<R>): Maybe<R> {
  return value instanceof Promise ? value.then(fn) : fn(value);
}

/**
 * A DataLoader with a plain map in front: values already read (or primed by a
 * statement that brought them) are answered synchronously, which spares
 * graphql a promise per field (on a 50-row page, most of its work and
 * garbage); the rest are batched per tick into one call of `batch`, whose
 * results come in key order, same length as the keys.
 */
export class Batch<K, V> {
  // Both made on first use: a request builds a reader's twenty-odd batches and uses a few (a history page: only primed ones).
  private known: Map<string, V> | null = null;
  private loader: DataLoader<K, V, string> | null = null;

  constructor(
    private readonly batch: (keys: readonly K[]) => Promise<V[]>,
    private readonly keyOf: (key: K) => string = String,
  ) {}

  get(key: K): Maybe<V> {
    const k = this.keyOf(key);
    return this.known?.has(k) ? (this.known.get(k) as V) : this.load(key);
  }

  /** Many at once: synchronous when every one is at hand. */
  getMany(keys: readonly K[]): Maybe<V[]> {
    const values: V[] = [];
    for (const key of keys) {
      const k = this.keyOf(key);
      if (!this.known?.has(k)) return Promise.all(keys.map((each) => this.get(each)));
      values.push(this.known.get(k) as V);
    }
    return values;
  }

  prime(key: K, value: V): void {
    (this.known ??= new Map()).set(this.keyOf(key), value);
  }

  clear(): void {
    this.known?.clear();
    this.loader?.clearAll();
  }

  private load(key: K): Promise<V> {
    this.loader ??= new DataLoader(
      async (keys) => {
        const values = await this.batch(keys);
        keys.forEach((key, i) => this.prime(key, values[i]));
        return values;
      },
      { cacheKeyFn: this.keyOf },
    );
    return this.loader.load(key);
  }
}
