import { EventEmitter } from 'node:events';

/** Event name -> listener argument tuple. */
export type EventMap = { [event: string]: unknown[] };

type Listener<A extends unknown[]> = (...args: A) => void;

/**
 * An EventEmitter typed by an event map. `safeEmit` shields the emitter from a listener
 * that throws: one bad listener (say, a dashboard socket) must never stop a decoder or
 * the model loop, so its exception is reported through `onListenerError` instead.
 */
export class TypedEmitter<E extends EventMap> {
  readonly #ee = new EventEmitter();
  onListenerError: (event: string, error: unknown) => void = (event, error) => {
    process.emitWarning(`listener for "${event}" threw: ${error instanceof Error ? error.stack : String(error)}`);
  };

  constructor() {
    this.#ee.setMaxListeners(100);
  }

  on<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this {
    this.#ee.on(event, listener as (...a: unknown[]) => void);
    return this;
  }

  once<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this {
    this.#ee.once(event, listener as (...a: unknown[]) => void);
    return this;
  }

  off<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this {
    this.#ee.off(event, listener as (...a: unknown[]) => void);
    return this;
  }

  removeAllListeners(): void {
    this.#ee.removeAllListeners();
  }

  listenerCount<K extends keyof E & string>(event: K): number {
    return this.#ee.listenerCount(event);
  }

  protected safeEmit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    const listeners = this.#ee.rawListeners(event) as Listener<E[K]>[];
    for (const l of listeners) {
      try {
        l.apply(this, args);
      } catch (error) {
        this.onListenerError(event, error);
      }
    }
    // rawListeners keeps `once` wrappers; calling them removed themselves.
    return listeners.length > 0;
  }
}
