import { parseConfig } from '../../src/config.ts';
import { hubspotTokens } from '../../src/hubspot/tokens.ts';
import { createLogger } from '../../src/log.ts';
import { connectRedis } from '../../src/redis/connect.ts';
import { openDatabase } from '../../src/store/db.ts';

/**
 * A separate worker process that needs the portal's access token at a given instant; the test
 * starts two of them to prove refreshing is single-flight across processes.
 */
const config = parseConfig({ ...process.env, LOG_LEVEL: 'silent' });
const database = await openDatabase({ url: config.databaseUrl! });
const redis = connectRedis(config.redisUrl, createLogger('silent'));
const startAt = Number(process.env.START_AT);
await new Promise((r) => setTimeout(r, Math.max(0, startAt - Date.now())));
const token = await hubspotTokens({
  config,
  db: database.db,
  redis,
  encryptionKey: config.encryptionKey!,
}).accessToken(process.env.TENANT_ID!);
process.stdout.write(token);
redis.disconnect();
await database.close();
