import { parseConfig } from '../../src/config.ts';
import { hubspotTokens } from '../../src/hubspot/tokens.ts';
import { createLogger } from '../../src/log.ts';
import { connectRedis } from '../../src/redis/connect.ts';
import { openDatabase } from '../../src/store/db.ts';
import { readyThenGo } from './together.ts';

/**
 * A separate worker process that needs the portal's access token the moment the test says go; the
 * test starts two of them to prove refreshing is single-flight across processes.
 */
const config = parseConfig({ ...process.env, LOG_LEVEL: 'silent' });
const database = await openDatabase({ url: config.databaseUrl! });
const redis = connectRedis(config.redisUrl, createLogger('silent'), config.redisPrefix);
// Connected before the barrier, so what races after `go` is the token refresh alone.
await Promise.all([database.ping(), redis.ping()]);
await readyThenGo();
const token = await hubspotTokens({
  config,
  db: database.db,
  redis,
  encryptionKey: config.encryptionKey!,
}).accessToken(process.env.TENANT_ID!);
process.stdout.write(token);
redis.disconnect();
await database.close();
