import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs. Secrets never reach a log call by design (errors are reduced to safe fields where they are
 * caught); the redaction below is a second line of defence for anything shaped like a credential.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'avatar-cdn' },
      redact: {
        paths: ['apiToken', '*.apiToken', 'token', '*.token', 'req.headers.authorization', 'config', '*.config'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
