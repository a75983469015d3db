import express from 'express';
import { healthRoutes } from './http/routes/health.ts';
import { startWorker } from './jobs/worker.ts';
import { onShutdown, startRuntime } from './runtime.ts';

const runtime = await startRuntime();
const worker = startWorker(runtime);

// A platform's health check asks the worker itself whether it reaches PostgreSQL and Redis.
const port = runtime.config.workerHealthPort;
const health = port ? express().use(healthRoutes(runtime)).listen(port) : undefined;
if (health) runtime.logger.info({ port }, 'worker health at /healthz and /readyz');

onShutdown(runtime.logger, async () => {
  worker.stopSweeping();
  health?.close();
  // Bull's close waits for the jobs in flight.
  await runtime.close();
});
