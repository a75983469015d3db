import { JOBS } from '../../src/jobs/index.ts';
import { startRuntime } from '../../src/runtime.ts';

/** A worker process of its own (the real runtime and job list), for tests that kill one mid-job. */
const runtime = await startRuntime();
runtime.queues.process(JOBS, runtime);
// Its pid, so the test can tell it holds this process and not a wrapper around it.
process.stdout.write(`ready ${process.pid}\n`);
process.once('SIGTERM', () => void runtime.close().then(() => process.exit(0)));
