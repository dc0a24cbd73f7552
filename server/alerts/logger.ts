/** The slice of a pino logger the alerts stage uses; the server passes its own. */
export interface AlertLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
  debug?(fields: object, message: string): void;
}

export const noopLogger: AlertLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
