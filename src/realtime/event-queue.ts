/**
 * An unbounded-until-`limit` queue read as an async iterator. `close()` ends a
 * pending `next()` at once, which an async generator's own `return()` cannot do
 * while it awaits.
 */
export class EventQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private waiter: ((result: IteratorResult<T>) => void) | null = null;
  private failure: Error | null = null;
  private closed = false;

  /** @param limit events buffered for a slow consumer before the stream fails (it must resubscribe with `since`). */
  constructor(
    private readonly limit = 10_000,
    private readonly onClose: () => void = () => {},
  ) {}

  push(item: T): void {
    if (this.closed) return;
    if (this.waiter) {
      const resolve = this.waiter;
      this.waiter = null;
      resolve({ value: item, done: false });
    } else if (this.items.length >= this.limit) {
      this.failure = new Error(`Subscriber fell more than ${this.limit} events behind`);
      this.close();
    } else {
      this.items.push(item);
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) return Promise.resolve({ value: this.items.shift() as T, done: false });
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** True once closed (unsubscribed, overflowed, or its stream ended). */
  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Nobody reads a closed queue: it closes on unsubscribe, on overflow and when its stream ends.
    this.items.length = 0;
    this.onClose();
    if (this.waiter) {
      const resolve = this.waiter;
      this.waiter = null;
      resolve({ value: undefined, done: true });
    }
  }

  return(): Promise<IteratorResult<T>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}

/**
 * Wraps an async generator so that `return()` from the consumer (an unsubscribe)
 * first closes the queue the generator is waiting on, then finishes the generator.
 */
export function cancellable<T>(generator: AsyncGenerator<T>, queue: { close(): void }): AsyncGenerator<T> {
  const wrapped: AsyncGenerator<T> = {
    next: (...args) => generator.next(...args),
    return: async (value) => {
      queue.close();
      return generator.return(value as T);
    },
    throw: async (error) => {
      queue.close();
      return generator.throw(error);
    },
    [Symbol.asyncIterator]: () => wrapped,
  } as AsyncGenerator<T>;
  return wrapped;
}
