/**
 * At most one event per key and interval, for writes a client repeats faster
 * than anyone needs to hear of them (typing, read positions): the first offer
 * is emitted at once; offers during the interval only keep the latest value,
 * which is emitted when the interval ends (and opens the next one), even when
 * it equals the last one emitted (a "still typing" reaches subscribers who
 * joined since). A flood of offers costs subscribers one event per interval.
 * Per server: behind a load balancer, one per interval and server.
 */
export class Coalescer<V> {
  private readonly slots = new Map<string, { pending: V | undefined; timer: NodeJS.Timeout }>();

  /**
   * @param intervalMs the interval per key.
   * @param emit sends a value on; `held` when it waited for the end of an interval (what made it true may have
   * changed since: its caller checked it when offering), false when it goes at once.
   */
  constructor(
    private readonly intervalMs: number,
    private readonly emit: (value: V, held: boolean) => void,
  ) {}

  offer(key: string, value: V): void {
    const slot = this.slots.get(key);
    if (slot) {
      slot.pending = value;
      return;
    }
    this.emit(value, false);
    this.open(key);
  }

  /** Emits every pending value now and forgets the intervals (shutdown, when the last state must still be told). */
  flush(): void {
    const pending = [...this.slots.values()].map((slot) => slot.pending);
    this.close();
    for (const value of pending) if (value !== undefined) this.emit(value, true);
  }

  /** Forgets pending values (shutdown). */
  close(): void {
    for (const slot of this.slots.values()) clearTimeout(slot.timer);
    this.slots.clear();
  }

  private open(key: string): void {
    const timer = setTimeout(() => {
      const { pending } = this.slots.get(key) as { pending: V | undefined };
      this.slots.delete(key);
      if (pending !== undefined) {
        this.emit(pending, true);
        this.open(key);
      }
    }, this.intervalMs);
    timer.unref();
    this.slots.set(key, { pending: undefined, timer });
  }
}
