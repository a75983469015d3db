import { createApp } from './http/app.ts';
import { startRuntime } from './runtime.ts';

const runtime = await startRuntime();
const { config, logger } = runtime;
const server = createApp(runtime).listen(config.port, () => {
  logger.info({ port: config.port, database: runtime.database.kind }, `web listening on ${config.publicUrl}`);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'shutting down');
    server.close(() => void runtime.close().then(() => process.exit(0)));
    setTimeout(() => process.exit(0), 10_000).unref();
  });
}
