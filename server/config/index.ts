export { configSchema, streamKeySchema, streamNameSchema, pullUrlSchema, webhookEvents, type Config, type ConfigInput, type WebhookEvent } from './schema.js';
export { loadConfig, parseConfig, ConfigError, formatPath, DEFAULT_CONFIG_FILE, type LoadOptions, type LoadedConfig } from './load.js';
export { exampleConfigYaml } from './example.js';
export { createLogger, type Logger } from './logging.js';
