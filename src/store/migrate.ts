import { parseConfig } from '../config.ts';
import { openDatabase } from './db.ts';

/** The `release` process: applies pending migrations and exits. */
const config = parseConfig();
const database = await openDatabase(
  config.databaseUrl ? { url: config.databaseUrl } : { dataDir: config.dataDir },
);
await database.close();
console.log(`migrations applied (${database.kind})`);
