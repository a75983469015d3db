import { startRuntime } from './runtime.ts';

/**
 * The worker process. Its job processors (webhook events, invoice pushes, write-back) register
 * here as they arrive; until then it keeps its connections healthy and drains on SIGTERM.
 */
const runtime = await startRuntime();
runtime.logger.info({ database: runtime.database.kind }, 'worker started');

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    runtime.logger.info({ signal }, 'worker stopping');
    void runtime.close().then(() => process.exit(0));
  });
}
