import { createRequire } from 'node:module';
import QuickBooksModule from 'node-quickbooks';
import type { Config } from '../config.ts';
import { hasFault, QboError, toQboError } from './errors.ts';

/**
 * node-quickbooks, behind promises and narrow types of our own: the only import of it in the app.
 * Its bundled types are wrong (envelopes vs unwrapped entities, a missing `query`), so only the
 * calls used here are declared. Entities stay loosely typed; callers parse them with zod.
 */
type Callback = (
  error: unknown,
  data: unknown,
  response?: { status?: number; headers?: Record<string, unknown> },
) => void;
type Criteria = Record<string, unknown> | { field: string; value: unknown; operator?: string }[];

interface Sdk {
  findCustomers(criteria: Criteria, cb: Callback): void;
  getCustomer(id: string, cb: Callback): void;
  createCustomer(customer: object, cb: Callback): void;
  findItems(criteria: Criteria, cb: Callback): void;
  createItem(item: object, cb: Callback): void;
  findAccounts(criteria: Criteria, cb: Callback): void;
  findTerms(criteria: Criteria, cb: Callback): void;
  findTaxCodes(criteria: Criteria, cb: Callback): void;
  getCompanyInfo(realmId: string, cb: Callback): void;
  getPreferences(cb: Callback): void;
  createInvoice(invoice: object, cb: Callback): void;
  findInvoices(criteria: Criteria, cb: Callback): void;
  getInvoice(id: string, cb: Callback): void;
  getPayment(id: string, cb: Callback): void;
  findPayments(criteria: Criteria, cb: Callback): void;
  changeDataCapture(entities: string[], since: string, cb: Callback): void;
  sendInvoicePdf(id: string, sendTo: string | undefined, cb: Callback): void;
  createAttachable(attachable: object, cb: Callback): void;
  findAttachables(criteria: Criteria, cb: Callback): void;
}

type SdkConstructor = new (
  clientId: string,
  clientSecret: string,
  accessToken: string,
  tokenSecret: false,
  realmId: string,
  useSandbox: boolean,
  debug: boolean,
  minorversion: number | null,
  oauthversion: '2.0',
  refreshToken?: string,
) => Sdk;

const QuickBooks = QuickBooksModule as unknown as SdkConstructor & {
  V3_ENDPOINT_BASE_URL: string;
  TOKEN_URL: string;
  REVOKE_URL: string;
};

let configured: string | undefined;

/**
 * Points node-quickbooks at the configured origin (its statics are process-global) and gives its
 * axios — the default instance, which it cannot be handed — a request timeout: by default it has
 * none, and a hung request would hold a push forever.
 */
function configure(config: Config): void {
  const key = `${config.quickbooks.apiBaseUrl}|${config.quickbooks.requestTimeoutMs}`;
  if (configured === key) return;
  QuickBooks.V3_ENDPOINT_BASE_URL = `${config.quickbooks.apiBaseUrl}/v3/company/`;
  QuickBooks.TOKEN_URL = config.quickbooks.tokenUrl;
  QuickBooks.REVOKE_URL = config.quickbooks.revokeUrl;
  const axios = createRequire(createRequire(import.meta.url).resolve('node-quickbooks'))('axios');
  axios.defaults.timeout = config.quickbooks.requestTimeoutMs;
  configured = key;
}

export interface QboCall<T> {
  data: T;
  intuitTid: string | undefined;
}

/** A client for one company and one access token. */
export function sdkFor(config: Config, realmId: string, accessToken: string) {
  configure(config);
  // useSandbox=true keeps the configured origin as it is (false would strip "sandbox-" from it).
  const sdk = new QuickBooks(
    config.quickbooks.clientId ?? '',
    config.quickbooks.clientSecret ?? '',
    accessToken,
    false,
    realmId,
    true,
    false,
    75,
    '2.0',
  );
  return function call<T = unknown>(invoke: (sdk: Sdk, cb: Callback) => void): Promise<QboCall<T>> {
    return new Promise((resolve, reject) => {
      invoke(sdk, (error, data, response) => {
        const intuitTid = response?.headers?.intuit_tid as string | undefined;
        if (error) return reject(toQboError(error, response));
        // HTTP 200 can still carry a Fault.
        if (hasFault(data)) return reject(toQboError(data, response));
        resolve({ data: data as T, intuitTid });
      });
    });
  };
}

export type SdkCall = ReturnType<typeof sdkFor>;
export { QboError };
