import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';

const url = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' });
const optional = (schema: z.ZodType<string>) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

/** DESIGN §4.1: the whole environment the app reads. */
const Env = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  PUBLIC_URL: optional(url),
  DATABASE_URL: optional(z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')),
  DATA_DIR: z.string().default('./.data'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// URL')
    .default('redis://127.0.0.1:6379'),
  ENCRYPTION_KEY: optional(
    z.string().refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded'),
  ),
  ENCRYPTION_KEY_PREVIOUS: optional(
    z
      .string()
      .refine(
        (v) => v.split(',').every((k) => Buffer.from(k.trim(), 'base64').length === 32),
        'must be 32-byte base64 keys, comma-separated',
      ),
  ),
  HUBSPOT_CLIENT_ID: optional(z.string()),
  HUBSPOT_CLIENT_SECRET: optional(z.string()),
  HUBSPOT_APP_ID: optional(z.string().regex(/^\d+$/, 'must be a number')),
  HUBSPOT_API_BASE_URL: url.default('https://api.hubapi.com'),
  HUBSPOT_AUTH_URL: url.default('https://app.hubspot.com/oauth/authorize'),
  QBO_CLIENT_ID: optional(z.string()),
  QBO_CLIENT_SECRET: optional(z.string()),
  QBO_ENVIRONMENT: z.enum(['sandbox', 'production']).default('sandbox'),
  QBO_API_BASE_URL: optional(url),
  QBO_AUTH_URL: url.default('https://appcenter.intuit.com/connect/oauth2'),
  QBO_TOKEN_URL: url.default('https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer'),
  QBO_REVOKE_URL: url.default('https://developer.api.intuit.com/v2/oauth2/tokens/revoke'),
  QBO_WEBHOOK_VERIFIER_TOKEN: optional(z.string()),
  QBO_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(30_000),
  REDIS_PREFIX: z
    .string()
    .regex(/^[\w-]+$/, 'letters, digits, - and _ only')
    .default('mb'),
  JOB_LOCK_MS: z.coerce.number().int().min(1000).default(30_000),
  JOB_BACKOFF_MS: z.coerce.number().int().min(10).default(1000),
  INVOICE_MAX_TRIES: z.coerce.number().int().min(1).max(100).default(10),
  QBO_THROTTLE_PAUSE_MS: z.coerce.number().int().min(0).default(60_000),
  WORKER_HEALTH_PORT: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.coerce.number().int().min(1).max(65535).optional(),
  ),
  API_REQUESTS_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(600),
  ADMIN_TOKEN: optional(z.string().min(24, 'must be at least 24 characters')),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = ReturnType<typeof parseConfig>;

/** Every variable the app reads (the README's table lists each; a test holds them together). */
export const ENVIRONMENT_VARIABLES = Object.keys(Env.shape);

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; every problem is listed in one error. */
export function parseConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (e.NODE_ENV === 'production') {
    for (const name of ['ENCRYPTION_KEY', 'PUBLIC_URL', 'DATABASE_URL'] as const) {
      if (!e[name]) problems.push(`${name}: required in production`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  const dataDir = resolve(e.DATA_DIR);
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, ''),
    databaseUrl: e.DATABASE_URL,
    dataDir,
    redisUrl: e.REDIS_URL,
    /** Every key this deployment writes in Redis (queues, locks, caches, limits) starts with `<prefix>:`. */
    redisPrefix: e.REDIS_PREFIX,
    encryptionKey: e.ENCRYPTION_KEY ? Buffer.from(e.ENCRYPTION_KEY, 'base64') : undefined,
    /** Keys being rotated out: they decrypt, never encrypt. */
    previousEncryptionKeys: (e.ENCRYPTION_KEY_PREVIOUS ?? '')
      .split(',')
      .filter((k) => k.trim())
      .map((k) => Buffer.from(k.trim(), 'base64')),
    logLevel: e.LOG_LEVEL,
    /** Where a worker answers /healthz and /readyz (unset: it serves nothing). */
    workerHealthPort: e.WORKER_HEALTH_PORT,
    /** Requests each tenant may make to the API and the card API together in any minute. */
    apiRequestsPerMinute: e.API_REQUESTS_PER_MINUTE,
    /** Opens the operators' pages (queue dashboard) and, once set, guards /metrics. */
    adminToken: e.ADMIN_TOKEN,
    jobs: { lockMs: e.JOB_LOCK_MS, backoffMs: e.JOB_BACKOFF_MS },
    /** Tries of an invoice push before a platform that does not answer is shown to a person. */
    invoiceMaxTries: e.INVOICE_MAX_TRIES,
    hubspot: {
      clientId: e.HUBSPOT_CLIENT_ID,
      clientSecret: e.HUBSPOT_CLIENT_SECRET,
      appId: e.HUBSPOT_APP_ID,
      apiBaseUrl: e.HUBSPOT_API_BASE_URL.replace(/\/$/, ''),
      authUrl: e.HUBSPOT_AUTH_URL,
    },
    quickbooks: {
      clientId: e.QBO_CLIENT_ID,
      clientSecret: e.QBO_CLIENT_SECRET,
      environment: e.QBO_ENVIRONMENT,
      apiBaseUrl: (
        e.QBO_API_BASE_URL ??
        (e.QBO_ENVIRONMENT === 'production'
          ? 'https://quickbooks.api.intuit.com'
          : 'https://sandbox-quickbooks.api.intuit.com')
      ).replace(/\/$/, ''),
      authUrl: e.QBO_AUTH_URL,
      tokenUrl: e.QBO_TOKEN_URL,
      revokeUrl: e.QBO_REVOKE_URL,
      webhookVerifierToken: e.QBO_WEBHOOK_VERIFIER_TOKEN,
      requestTimeoutMs: e.QBO_REQUEST_TIMEOUT_MS,
      throttlePauseMs: e.QBO_THROTTLE_PAUSE_MS,
    },
  };
}

/**
 * Development and test run without an ENCRYPTION_KEY: one is generated once into DATA_DIR so
 * that stored tokens survive restarts. Production refuses to start without one (parseConfig).
 */
export function encryptionKey(config: Config, warn: (msg: string) => void): Buffer {
  if (config.encryptionKey) return config.encryptionKey;
  const file = join(config.dataDir, 'encryption.key');
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  writeFileSync(file, key.toString('base64'), { mode: 0o600 });
  warn(`ENCRYPTION_KEY is not set: generated a development key in ${file}`);
  return key;
}
