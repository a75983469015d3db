import { type Config, ConfigError, encryptionKey, parseConfig } from './config.ts';
import { type AppContext, createContext } from './context.ts';
import { createLogger, type Logger } from './log.ts';
import { connectRedis } from './redis/connect.ts';
import { retireKeys } from './security/crypto.ts';
import { openDatabase } from './store/db.ts';

export interface Runtime extends AppContext {
  close(): Promise<void>;
}

/** The environment, parsed; a bad one stops the process with every problem listed. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}

/** What every process (web, worker, CLI) opens first: the database (migrated), Redis, the context. */
export async function startRuntime(config: Config = loadConfig()): Promise<Runtime> {
  const logger = createLogger(config.logLevel);
  const key = encryptionKey(config, (msg) => logger.warn(msg));
  retireKeys(config.previousEncryptionKeys);
  const database = await openDatabase(
    config.databaseUrl ? { url: config.databaseUrl } : { dataDir: config.dataDir },
  );
  const redis = connectRedis(config.redisUrl, logger, config.redisPrefix);
  const ctx = createContext({ config, logger, database, redis, encryptionKey: key });
  return {
    ...ctx,
    async close() {
      await ctx.queues.close();
      redis.disconnect();
      await database.close();
    },
  };
}

/**
 * SIGTERM or SIGINT: `stop` (finish what is in flight, close connections), then exit. A process
 * manager allows 30 s after SIGTERM; past 25 s the process exits anyway, with code 1. The signal
 * often comes twice (to the process group, and forwarded by npm): the second must not kill the
 * process mid-drain, as the default action of an unhandled signal would.
 */
export function onShutdown(logger: Logger, stop: () => Promise<void>, deadlineMs = 25_000): void {
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      setTimeout(() => process.exit(1), deadlineMs).unref();
      stop().then(
        () => process.exit(0),
        (error: Error) => {
          logger.error({ err: error.message }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}
