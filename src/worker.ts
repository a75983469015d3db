import { startWorker } from './jobs/worker.ts';
import { onShutdown, startRuntime } from './runtime.ts';

const runtime = await startRuntime();
const worker = startWorker(runtime);

onShutdown(runtime.logger, async () => {
  worker.stopSweeping();
  // Bull's close waits for the jobs in flight.
  await runtime.close();
});
