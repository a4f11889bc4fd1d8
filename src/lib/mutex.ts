/**
 * A FIFO async lock. Callers queue behind each other; `run` releases the lock even when the
 * critical section throws.
 */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  private held = 0;

  get isLocked(): boolean {
    return this.held > 0;
  }

  async run<T>(critical: () => Promise<T> | T): Promise<T> {
    let release!: () => void;
    const previous = this.tail;
    this.tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.held++;
    try {
      await previous;
      return await critical();
    } finally {
      this.held--;
      release();
    }
  }
}
