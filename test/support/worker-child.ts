import { JOBS } from '../../src/jobs/index.ts';
import { startRuntime } from '../../src/runtime.ts';

/** A worker process of its own (the real runtime and job list), for tests that kill one mid-job. */
const runtime = await startRuntime();
runtime.queues.process(JOBS, runtime);
process.stdout.write('ready\n');
process.once('SIGTERM', () => void runtime.close().then(() => process.exit(0)));
