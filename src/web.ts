import { createServer } from 'node:http';
import { createApp } from './http/app.ts';
import { startWorker } from './jobs/worker.ts';
import { loadConfig, onShutdown, startRuntime } from './runtime.ts';

/**
 * The web process. The port is taken first, so a second instance on it stops at once with a
 * message naming it. On the embedded default (no DATABASE_URL: PGlite belongs to one process)
 * the worker runs here too, so `npm start` alone turns acceptances into invoices.
 */
const config = loadConfig();
const server = createServer((_req, res) => {
  res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
  res.end('{"status":"starting"}');
});
// Behind a load balancer (60 s idle timeout on most), the app must not close a connection first.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
await new Promise<void>((resolve) => {
  server.once('error', (error: NodeJS.ErrnoException) => {
    console.error(
      error.code === 'EADDRINUSE'
        ? `port ${config.port} is in use: stop what listens there, or set PORT to another port`
        : `cannot listen on port ${config.port}: ${error.message}`,
    );
    process.exit(1);
  });
  server.listen(config.port, resolve);
});

const runtime = await startRuntime(config);
const { logger } = runtime;
const worker = config.databaseUrl ? undefined : startWorker(runtime);
server.removeAllListeners('request');
server.on('request', createApp(runtime));
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
