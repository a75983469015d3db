import { type Billing, startBilling } from '../support/billing.ts';

/**
 * A row's own app and sandboxes, closed after it: the sandboxes' fault settings are global, so
 * rows that run at the same time (describe.concurrent) each need their own.
 */
export async function inOwnBilling<T>(
  opts: Parameters<typeof startBilling>[0],
  run: (b: Billing) => Promise<T>,
): Promise<T> {
  const b = await startBilling(opts);
  try {
    return await run(b);
  } finally {
    await b.close();
  }
}

/** The seed every sandbox of the run draws its faults from (services.ts sets it once per run). */
export const runSeed = () => Number(process.env.FAULT_SEED);
