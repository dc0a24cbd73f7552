/** The alerts stage: rolling scores, alert policy, SQLite store, webhook outbox, alert bus. */
export { AlertService, type AlertServiceEvents, type AlertServiceOptions, type ClipScoreInput } from './alert-service.js';
export { InProcessAlertBus, type AlertBus, type AlertListener } from './alert-bus.js';
export { AlertPolicy, type AlertPolicyOptions, type CloseReason, type IncidentSnapshot, type PolicyClip, type PolicyDecision } from './alert-policy.js';
export { AlertStore, evidenceUrlFor, type AlertEventRecord, type AlertPage, type AlertQuery, type AlertRecord, type Evidence } from './alert-store.js';
export {
  alertsConfigSchema,
  parseAlertsConfig,
  resolveThresholds,
  webhookConfigSchema,
  type AlertsConfig,
  type AlertsConfigInput,
  type DeliveryConfig,
  type PolicyConfig,
  type WebhookConfig,
} from './config.js';
export { openAlertDatabase, SCHEMA_VERSION, type AlertDatabase } from './database.js';
export { imageMime, type EvidenceMime } from './evidence-image.js';
export type { AlertLogger } from './logger.js';
export { registerAlertMetrics } from './metrics.js';
export { RollingScore, type RollingMethod, type RollingScoreOptions, type Verdict } from './rolling-score.js';
export { WebhookOutbox, backoff, type DeliveryRecord, type DeliveryState, type OutboxStats } from './webhook-outbox.js';
export { webhookEventName, type WebhookEventName, type WebhookPayload } from './webhook-payload.js';
export { signWebhook, verifyWebhook, type VerifyWebhookInput } from './webhook-signature.js';
