import { parseConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { qboAccessToken } from '../../src/quickbooks/tokens.ts';
import { connectRedis } from '../../src/redis/connect.ts';
import { openDatabase } from '../../src/store/db.ts';

/**
 * A separate worker process that needs the company's access token at a given instant; the test
 * starts two of them to prove the QuickBooks refresh is single-flight across processes.
 */
const config = parseConfig({ ...process.env, LOG_LEVEL: 'silent' });
const database = await openDatabase({ url: config.databaseUrl! });
const redis = connectRedis(config.redisUrl, createLogger('silent'));
const startAt = Number(process.env.START_AT);
await new Promise((r) => setTimeout(r, Math.max(0, startAt - Date.now())));
const token = await qboAccessToken(
  { config, db: database.db, redis, encryptionKey: config.encryptionKey! },
  process.env.TENANT_ID!,
);
process.stdout.write(JSON.stringify(token));
redis.disconnect();
await database.close();
