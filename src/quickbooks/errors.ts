/**
 * Every way a QuickBooks call can fail, as one typed error: HTTP faults (AxiosError with the Fault
 * at response.data), HTTP 200 with a Fault, lower-case 401/403 bodies, XML 429 bodies, HTML 5xx
 * pages, and no response at all.
 */
export type QboErrorKind =
  | 'auth'
  | 'forbidden'
  | 'throttled'
  | 'server'
  | 'network'
  | 'timeout'
  | 'validation';

export class QboError extends Error {
  constructor(
    readonly kind: QboErrorKind,
    /** Intuit's error code ("6240", "3200"…), or "" when there was none. */
    readonly code: string,
    message: string,
    readonly status: number | undefined,
    readonly intuitTid: string | undefined,
    readonly detail: string = '',
  ) {
    super(message);
    this.name = 'QboError';
  }

  /** Worth trying again later: the request may not have reached QuickBooks, or QuickBooks was busy. */
  get transient(): boolean {
    return (
      this.kind === 'throttled' ||
      this.kind === 'server' ||
      this.kind === 'network' ||
      this.kind === 'timeout'
    );
  }

  /** A referenced customer, item, term or tax code is deleted, merged away or inactive. */
  get staleReference(): boolean {
    return this.code === '2500' || this.code === '610';
  }

  /** The outcome is unknown: QuickBooks may have done it. */
  get uncertain(): boolean {
    return this.kind === 'network' || this.kind === 'timeout' || this.kind === 'server';
  }
}

interface FaultEntry {
  code: string;
  message: string;
  detail: string;
}

function faultOf(body: unknown): FaultEntry | undefined {
  if (typeof body === 'string') {
    const xml =
      /<Error code="(\d+)"[^>]*>\s*<Message>([\s\S]*?)<\/Message>(?:\s*<Detail>([\s\S]*?)<\/Detail>)?/.exec(
        body,
      );
    return xml ? { code: xml[1]!, message: xml[2]!, detail: xml[3] ?? '' } : undefined;
  }
  if (!body || typeof body !== 'object') return undefined;
  const record = body as Record<string, unknown>;
  const fault = (record.Fault ?? record.fault) as Record<string, unknown> | undefined;
  const list = (fault?.Error ?? fault?.error) as Record<string, unknown>[] | undefined;
  const first = list?.[0];
  if (!first) return undefined;
  return {
    code: String(first.code ?? ''),
    message: String(first.Message ?? first.message ?? ''),
    detail: String(first.Detail ?? first.detail ?? ''),
  };
}

export function hasFault(body: unknown): boolean {
  return faultOf(body) !== undefined;
}

/** Normalises whatever node-quickbooks handed the callback into a QboError. */
export function toQboError(
  error: unknown,
  response?: { status?: number; headers?: Record<string, unknown> },
): QboError {
  const axios = error as {
    response?: { status: number; data: unknown; headers: Record<string, unknown> };
    code?: string;
    message?: string;
  };
  const res = axios?.response ?? response;
  const status = res?.status;
  const tid = (res?.headers?.intuit_tid as string | undefined) ?? undefined;
  const body = axios?.response ? axios.response.data : error;
  const fault = faultOf(body);
  if (!axios?.response && !fault) {
    const timedOut =
      axios?.code === 'ECONNABORTED' || axios?.code === 'ETIMEDOUT' || /timeout/i.test(axios?.message ?? '');
    return new QboError(
      timedOut ? 'timeout' : 'network',
      '',
      `QuickBooks did not answer: ${axios?.message ?? 'no response'}`,
      undefined,
      tid,
    );
  }
  const code = fault?.code ?? '';
  const text = fault ? [fault.message, fault.detail].filter(Boolean).join(': ') : htmlOrText(body);
  // 3001 is a throttle whatever the status: it has come as 429 and as 403
  // (python-quickbooks#43, quickbooks-ruby#338), and a 403 throttle is no refusal.
  const kind: QboErrorKind =
    status === 429 || code === '3001'
      ? 'throttled'
      : status === 401 || code === '3200'
        ? 'auth'
        : status === 403 || code === '3100'
          ? 'forbidden'
          : status !== undefined && status >= 500
            ? 'server'
            : 'validation';
  return new QboError(
    kind,
    code,
    `QuickBooks ${status ?? ''} ${code ? `(${code}) ` : ''}${text}`.replace(/\s+/g, ' ').trim(),
    status,
    tid,
    fault?.detail ?? '',
  );
}

function htmlOrText(body: unknown): string {
  if (typeof body !== 'string') return 'an error without details';
  return /<html/i.test(body) ? 'an HTML error page' : body.slice(0, 200);
}

/** 6240's Detail ends with the existing record's id: "The name supplied already exists. : Id=58". */
export function duplicateNameId(error: QboError): string | undefined {
  return error.code === '6240' ? /Id=(\d+)/.exec(error.detail || error.message)?.[1] : undefined;
}
