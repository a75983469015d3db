import { createServer, type Server } from 'node:http';
import { createApp } from './http/app.ts';
import { startWorker } from './jobs/worker.ts';
import { loadConfig, onShutdown, startRuntime } from './runtime.ts';

/**
 * The web process. A taken port stops it at once with a message naming the port, before the
 * database is opened (embedded PGlite would otherwise report its lock instead). On the embedded
 * default (no DATABASE_URL: PGlite belongs to one process) the worker runs here too, so
 * `npm start` alone turns acceptances into invoices.
 */
const config = loadConfig();
await listen(createServer(), config.port).then((probe) => new Promise((r) => probe.close(r)));

const runtime = await startRuntime(config);
const { logger } = runtime;
const worker = config.databaseUrl ? undefined : startWorker(runtime);
const server = await listen(createServer(createApp(runtime)), config.port);
logger.info(
  { port: config.port, database: runtime.database.kind, worker: worker !== undefined },
  `web listening on ${config.publicUrl}`,
);

onShutdown(logger, async () => {
  worker?.stopSweeping();
  await new Promise((resolve) => {
    server.close(resolve);
    server.closeIdleConnections();
  });
  await runtime.close();
});

function listen(server: Server, port: number): Promise<Server> {
  // Behind a load balancer (60 s idle timeout on most), the app must not close a connection first.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return new Promise((resolve) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      console.error(
        error.code === 'EADDRINUSE'
          ? `port ${port} is in use: stop what listens there, or set PORT to another port`
          : `cannot listen on port ${port}: ${error.message}`,
      );
      process.exit(1);
    });
    server.listen(port, () => resolve(server));
  });
}
