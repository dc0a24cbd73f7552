import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from './schema.js';

export type { Logger };

/**
 * One structured logger for the process: JSON lines on stdout (or `destination`), ISO
 * times, so logs can be shipped as they are. Stages take a child logger (`logger.child({
 * stage: 'ingest' })`) instead of creating their own.
 */
export function createLogger(cfg: Config['logging'], destination?: DestinationStream): Logger {
  return pino({
    level: cfg.level,
    base: { service: 'deepwatch', pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  }, destination);
}
