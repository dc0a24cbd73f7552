import type { AlertWire } from '../api/wire.js';

export type AlertListener = (alert: AlertWire) => void;

/**
 * The seam through which alert events leave the alerts stage for the API layer (Socket.IO
 * rooms, REST caches). In one process it is `InProcessAlertBus`; with several processes
 * behind a load balancer a Redis-backed bus implements the same three methods, so neither
 * side changes. Listeners may be called synchronously (in process) or later (remote):
 * they must not rely on either.
 */
export interface AlertBus {
  /** Sends an alert event to every subscriber (of every process, for a shared bus). */
  publish(alert: AlertWire): void;
  /** Returns the function that unsubscribes. */
  subscribe(listener: AlertListener): () => void;
  close(): Promise<void>;
}

/** Delivers in order, synchronously, to listeners of this process; a listener that throws is reported and skipped. */
export class InProcessAlertBus implements AlertBus {
  readonly #listeners = new Set<AlertListener>();
  #closed = false;
  onListenerError: (error: unknown) => void = (error) => {
    process.emitWarning(`alert bus listener threw: ${error instanceof Error ? error.stack : String(error)}`);
  };

  publish(alert: AlertWire): void {
    if (this.#closed) return;
    for (const l of [...this.#listeners]) {
      try {
        l(alert);
      } catch (e) {
        this.onListenerError(e);
      }
    }
  }

  subscribe(listener: AlertListener): () => void {
    const own = (a: AlertWire): void => listener(a);
    this.#listeners.add(own);
    return () => void this.#listeners.delete(own);
  }

  get subscriberCount(): number {
    return this.#listeners.size;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
  }
}
