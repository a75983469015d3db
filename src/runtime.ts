import { type Config, ConfigError, encryptionKey, parseConfig } from './config.ts';
import { type AppContext, createContext } from './context.ts';
import { createLogger } from './log.ts';
import { connectRedis } from './redis/connect.ts';
import { openDatabase } from './store/db.ts';

export interface Runtime extends AppContext {
  close(): Promise<void>;
}

/** What every process (web, worker, CLI) opens first. A bad environment stops it with every problem listed. */
export async function startRuntime(env: NodeJS.ProcessEnv = process.env): Promise<Runtime> {
  let config: Config;
  try {
    config = parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const key = encryptionKey(config, (msg) => logger.warn(msg));
  const database = await openDatabase(
    config.databaseUrl ? { url: config.databaseUrl } : { dataDir: config.dataDir },
  );
  const redis = connectRedis(config.redisUrl, logger);
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
