import { Counter, Gauge, type Registry } from 'prom-client';
import type { AlertService } from './alert-service.js';

/**
 * Registers the alerts stage's Prometheus metrics on `registry`. Values are read from the
 * service when scraped, so nothing here runs on the alert path.
 */
export function registerAlertMetrics(registry: Registry, service: AlertService): void {
  const stats = () => service.outbox.stats();
  const counter = (name: string, help: string, read: () => number): void => {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  };
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  };
  counter('deepwatch_webhook_delivered_total', 'Webhook deliveries that succeeded since start', () => stats().delivered);
  counter('deepwatch_webhook_failed_attempts_total', 'Webhook delivery attempts that failed since start', () => stats().failed);
  counter('deepwatch_webhook_dead_lettered_total', 'Webhook deliveries dead-lettered since start', () => stats().deadLettered);
  gauge('deepwatch_webhook_pending', 'Webhook deliveries waiting to be sent or retried', () => (service.closed ? 0 : stats().pending));
  gauge('deepwatch_webhook_dead', 'Dead-lettered webhook deliveries kept for inspection or retry', () => (service.closed ? 0 : stats().dead));
  gauge('deepwatch_alerts_open', 'Alerts open now', () => service.openAlertCount());
  gauge('deepwatch_evidence_bytes', 'Bytes of stored evidence images', () => (service.closed ? 0 : service.store.evidenceBytes));
}
