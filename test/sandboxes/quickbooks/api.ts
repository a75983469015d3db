import type { Request, Response } from 'express';
import type { Holds } from '../holds.ts';
import { changeDataCapture } from './cdc.ts';
import {
  createAttachable,
  deleteAttachable,
  type UploadPart,
  updateAttachable,
  uploadAttachables,
} from './entities/attachable.ts';
import type { OpContext } from './entities/common.ts';
import { createCustomer, updateCustomer } from './entities/customer.ts';
import {
  createInvoice,
  deleteInvoice,
  invoicePdf,
  sendInvoice,
  updateInvoice,
  voidInvoice,
} from './entities/invoice.ts';
import { createItem, updateItem } from './entities/item.ts';
import { createNameListEntity, updateNameListEntity } from './entities/name-lists.ts';
import { createPayment, deletePayment, voidPayment } from './entities/payment.ts';
import {
  type FaultSettings,
  injectedError,
  latencyFor,
  type Random,
  shouldInject,
} from './fault-injection.ts';
import {
  faults,
  gatewayAuthBody,
  gatewayTimeoutHtml,
  QboFault,
  throttle403Body,
  throttleXml,
} from './faults.ts';
import type { OAuthServer } from './oauth.ts';
import { parseQuery, queryResponseBody, runQuery } from './query.ts';
import type { Realm, StoredReply } from './realm.ts';
import type { Throttle } from './throttle.ts';
import { ENTITY_NAMES, type EntityName, type SentEmail } from './types.ts';
import { intuitTid, isRecord, qboTime, sleep } from './util.ts';

export interface RequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  realmId: string;
  status: number;
  at: string;
  intuitTid: string;
  /** Normalised route, e.g. `POST /invoice?operation=update`, `GET /invoice/:id`. */
  endpoint: string;
}

/** What a hold matches a request by. */
export interface HeldQboRequest {
  realmId: string;
  /** As in RequestRecord, e.g. `POST /invoice`, `GET /query`. */
  endpoint: string;
  /** The query statement of a query request. */
  query: string;
}

/** How long a late invoice create takes QuickBooks unless the fault settings say otherwise. */
const LATE_CREATE_MS = 2_000;

export interface ApiDeps {
  realms: Map<string, Realm>;
  oauth: OAuthServer;
  throttle: Throttle;
  faults: () => FaultSettings;
  /** Every fault-injection draw comes from here (seeded). */
  random: Random;
  latencyMs: () => number | undefined;
  sentEmails: SentEmail[];
  log: (record: RequestRecord) => void;
  /** Parks a response that will never be answered (timeout-after-create). */
  hang: (res: Response) => void;
  /** Requests a test stops at a step (see ../holds.ts). */
  holds: Holds<HeldQboRequest>;
  origin: () => string;
}

interface Reply {
  status: number;
  contentType: string;
  body: string | Buffer;
  /** The work is done but the answer must never reach the client. */
  hang?: boolean;
}

const JSON_TYPE = 'application/json;charset=UTF-8';

function json(status: number, payload: object): Reply {
  return { status, contentType: JSON_TYPE, body: JSON.stringify({ ...payload, time: qboTime() }) };
}

function entityFromPath(segment: string | undefined): EntityName | undefined {
  if (!segment) return undefined;
  return ENTITY_NAMES.find((e) => e.toLowerCase() === segment.toLowerCase());
}

function endpointOf(method: string, segments: string[], params: URLSearchParams): string {
  const [first = '', second, third] = segments;
  let path = `/${first.toLowerCase()}`;
  if (second !== undefined) path += first.toLowerCase() === 'companyinfo' ? '/:realmId' : '/:id';
  if (third !== undefined) path += `/${third}`;
  const operation = params.get('operation');
  return `${method} ${path}${operation ? `?operation=${operation}` : ''}`;
}

/** Everything under /v3/company/:realmId — the gateway (auth, throttle, faults) then the service. */
export function createApiHandler(deps: ApiDeps) {
  const sent = new Set<string>();
  const firstSending = (requestId: string | null) => {
    if (requestId === null) return true;
    const first = !sent.has(requestId);
    sent.add(requestId);
    return first;
  };
  return async (req: Request, res: Response): Promise<void> => {
    const realmId = String(req.params.realmId ?? '');
    const tid = intuitTid();
    res.set('intuit_tid', tid);
    const rawQuery = req.originalUrl.includes('?')
      ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1)
      : '';
    // URLSearchParams decodes '+' as a space, as Intuit's servers do.
    const params = new URLSearchParams(rawQuery);
    const segments = req.path.split('/').filter(Boolean);
    const method = req.method.toUpperCase();
    const logAs = (status: number) =>
      deps.log({
        method,
        path: req.originalUrl.split('?')[0] ?? req.path,
        query: Object.fromEntries(params),
        realmId,
        status,
        at: new Date().toISOString(),
        intuitTid: tid,
        endpoint: endpointOf(method, segments, params),
      });
    res.on('finish', () => logAs(res.statusCode));
    // A withheld response never finishes; it is logged with status 0 once the client gives up.
    let clientGone = false;
    res.on('close', () => {
      if (res.writableFinished) return;
      clientGone = true;
      logAs(0);
    });

    const auth = deps.oauth.authenticate(req.get('authorization'), realmId);
    const realm = deps.realms.get(realmId);
    if (!auth.ok || !realm) {
      const status = auth.ok ? 403 : auth.status;
      const kind = auth.ok ? 'forbidden' : auth.kind;
      if (status === 401) res.set('www-authenticate', 'Bearer realm="Intuit", error="invalid_token"');
      const token = /^Bearer\s+(\S+)/i.exec(req.get('authorization') ?? '')?.[1] ?? '';
      res.status(status).type(JSON_TYPE).send(gatewayAuthBody(kind, token));
      return;
    }

    if (!deps.throttle.tryAcquire(realmId)) {
      res.status(429).type('application/xml').send(throttleXml());
      return;
    }
    let released = false;
    const release = () => {
      if (!released) {
        released = true;
        deps.throttle.release(realmId);
      }
    };
    res.on('close', release);

    try {
      const settings = deps.faults();
      const delay = latencyFor(deps.random, deps.latencyMs(), settings.latencyMs);
      if (delay > 0) await sleep(delay);
      if (shouldInject(deps.random, settings.throttle403Rate)) {
        res.status(403).type('application/json;charset=UTF-8').send(throttle403Body());
        return;
      }
      if (shouldInject(deps.random, settings.errorRate)) {
        const injected = injectedError(deps.random);
        res.status(injected.status).type(injected.contentType).send(injected.body);
        return;
      }

      const endpoint = endpointOf(method, segments, params);
      const statement = params.get('query') ?? (endpoint === 'POST /query' ? bodyText(req) : '');
      const hold = deps.holds.claim({ realmId, endpoint, query: statement });
      if (hold?.phase === 'request') {
        await hold.released;
        // Its client went away while the request was held: to QuickBooks it never arrived.
        if (clientGone) return;
      }
      const requestId = method === 'POST' ? params.get('requestid') : null;
      const replay = requestId ? realm.replays.get(requestId) : undefined;
      if (replay) {
        res.status(replay.status).type(replay.contentType).send(replay.body);
        return;
      }
      // QuickBooks still at work on a create after its client gave up: the invoice lands late.
      // Only a first sending is slow; a repeat that arrives meanwhile finds no reply to replay.
      const first = endpoint === 'POST /invoice' && firstSending(requestId);
      if (first && shouldInject(deps.random, settings.lateCreateRate))
        await sleep(settings.lateCreateMs ?? LATE_CREATE_MS);
      // The gateway gives up and answers 504 at once; the create behind it lands later.
      if (first && shouldInject(deps.random, settings.gatewayTimeoutRate)) {
        res.status(504).type('text/html').send(gatewayTimeoutHtml());
        release();
        await sleep(settings.lateCreateMs ?? LATE_CREATE_MS);
      }

      const ctx: OpContext = { realm, params, sentEmails: deps.sentEmails };
      let reply: Reply;
      try {
        reply = await dispatch(ctx, method, segments, req, deps, settings);
      } catch (err) {
        if (err instanceof QboFault) {
          reply = json(err.status, { Fault: err.toFault() });
        } else {
          console.error('[qbo-sandbox] unexpected error', err);
          reply = json(500, { Fault: faults.systemFailure().toFault() });
        }
      }
      if (requestId && reply.status >= 200 && reply.status < 300 && typeof reply.body === 'string') {
        const stored: StoredReply = {
          status: reply.status,
          contentType: reply.contentType,
          body: reply.body,
        };
        realm.replays.set(requestId, stored);
      }
      if (hold?.phase === 'response') await hold.released;
      if (clientGone || res.headersSent) return;
      if (reply.hang) {
        // From Intuit's side the request is finished; only the client is left waiting.
        release();
        deps.hang(res);
        return;
      }
      res.status(reply.status).type(reply.contentType).send(reply.body);
    } catch (err) {
      release();
      throw err;
    }
  };
}

function bodyText(req: Request): string {
  return Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
}

function parseJsonBody(req: Request): unknown {
  const text = bodyText(req);
  if (!text.trim()) return {};
  const type = (req.get('content-type') ?? '').toLowerCase();
  if (type.includes('xml')) {
    throw faults.unsupportedProperty(
      'Property Name:XML request bodies are not supported by this sandbox; send application/json',
    );
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw faults.unsupportedProperty(
      `Property Name:${(err as Error).message} specified is unsupported or invalid`,
    );
  }
}

async function dispatch(
  ctx: OpContext,
  method: string,
  segments: string[],
  req: Request,
  deps: ApiDeps,
  settings: FaultSettings,
): Promise<Reply> {
  const { realm, params } = ctx;
  const [first = '', second, third] = segments;
  const head = first.toLowerCase();
  const fullPath = `/v3/company/${realm.id}/${segments.join('/')}`;

  if (head === 'query') {
    if (method !== 'GET' && method !== 'POST') throw faults.unsupportedOperation(fullPath);
    const statement = method === 'POST' && bodyText(req).trim() ? bodyText(req) : (params.get('query') ?? '');
    const parsed = parseQuery(statement);
    const result = runQuery(realm, parsed);
    return json(200, { QueryResponse: queryResponseBody(result, parsed.count) });
  }
  if (head === 'cdc' && method === 'GET') return json(200, changeDataCapture(realm, params) as object);
  if (head === 'upload' && method === 'POST') return upload(ctx, req, deps.origin());
  if (head === 'batch' && method === 'POST') return batch(ctx, parseJsonBody(req));
  if (head === 'download' && method === 'GET' && second) {
    const attachable = realm.get('Attachable', second);
    if (!attachable?.TempDownloadUri) throw faults.objectNotFound('Attachable', second);
    return { status: 200, contentType: 'text/plain', body: String(attachable.TempDownloadUri) };
  }
  if (head === 'preferences' && method === 'GET' && second === undefined) {
    return json(200, { Preferences: realm.get('Preferences', '1') as object });
  }
  if (head === 'companyinfo' && method === 'GET') {
    if (second !== undefined && second !== realm.id && second !== '1')
      throw faults.objectNotFound('CompanyInfo', second);
    return json(200, { CompanyInfo: realm.get('CompanyInfo', '1') as object });
  }
  if (head === 'invoice' && second && third === 'pdf' && method === 'GET') {
    return { status: 200, contentType: 'application/pdf', body: invoicePdf(ctx, second) };
  }
  if (head === 'invoice' && second && third === 'send' && method === 'POST') {
    return json(200, { Invoice: sendInvoice(ctx, second) });
  }

  const entity = entityFromPath(first);
  if (!entity || third !== undefined) throw faults.unsupportedOperation(fullPath);
  if (method === 'GET' && second !== undefined) {
    const record = realm.get(entity, second);
    if (!record) throw faults.objectNotFound(entity, second);
    return json(200, { [entity]: record });
  }
  if (method !== 'POST' || second !== undefined) throw faults.unsupportedOperation(fullPath);
  const operation = (params.get('operation') ?? 'create').toLowerCase();
  const result = write(ctx, entity, operation, parseJsonBody(req), fullPath);
  const reply = json(200, { [entity]: result });
  if (
    entity === 'Invoice' &&
    operation === 'create' &&
    shouldInject(deps.random, settings.timeoutAfterCreateRate)
  ) {
    return { ...reply, hang: true };
  }
  return reply;
}

function write(
  ctx: OpContext,
  entity: EntityName,
  operation: string,
  body: unknown,
  fullPath: string,
): object {
  const { realm } = ctx;
  switch (`${entity}:${operation}`) {
    case 'Customer:create':
      return createCustomer(realm, body);
    case 'Customer:update':
      return updateCustomer(realm, body);
    case 'Invoice:create':
      return createInvoice(ctx, body);
    case 'Invoice:update':
      return updateInvoice(ctx, body);
    case 'Invoice:void':
      return voidInvoice(ctx, body);
    case 'Invoice:delete':
      return deleteInvoice(ctx, body);
    case 'Payment:create':
      return createPayment(realm, body);
    case 'Payment:void':
      return voidPayment(realm, body);
    case 'Payment:delete':
      return deletePayment(realm, body);
    case 'Item:create':
      return createItem(realm, body);
    case 'Item:update':
      return updateItem(realm, body);
    case 'Attachable:create':
      return createAttachable(realm, body);
    case 'Attachable:update':
      return updateAttachable(realm, body);
    case 'Attachable:delete':
      return deleteAttachable(realm, body);
    case 'Vendor:create':
    case 'Employee:create':
    case 'Term:create':
    case 'Account:create':
      return createNameListEntity(realm, entity, body);
    case 'Vendor:update':
    case 'Employee:update':
    case 'Term:update':
    case 'Account:update':
      return updateNameListEntity(realm, entity, body);
    default:
      throw faults.unsupportedOperation(`${fullPath}?operation=${operation}`);
  }
}

async function upload(ctx: OpContext, req: Request, origin: string): Promise<Reply> {
  const contentType = req.get('content-type') ?? '';
  if (!contentType.toLowerCase().startsWith('multipart/form-data')) {
    throw faults.unsupportedProperty(
      'Property Name:upload requires a multipart/form-data body specified is unsupported or invalid',
    );
  }
  const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  let form: FormData;
  try {
    form = await new Request('http://sandbox.local/upload', {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: raw,
    }).formData();
  } catch (err) {
    throw faults.unsupportedProperty(`Property Name:malformed multipart body (${(err as Error).message})`);
  }
  const metadata = new Map<string, Record<string, unknown>>();
  const files: Array<{ suffix: string; file: File }> = [];
  for (const [name, value] of form.entries()) {
    const meta = /^file_metadata_(\w+)$/.exec(name);
    const content = /^file_content_(\w+)$/.exec(name);
    if (meta) {
      const text = typeof value === 'string' ? value : await value.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw faults.unsupportedProperty(
          `Property Name:${name} is not valid JSON specified is unsupported or invalid`,
        );
      }
      if (isRecord(parsed)) metadata.set(meta[1] as string, parsed);
    } else if (content && typeof value !== 'string') {
      files.push({ suffix: content[1] as string, file: value });
    }
  }
  if (files.length === 0) throw faults.requiredParam('file_content_01');
  const parts: UploadPart[] = [];
  for (const { suffix, file } of files) {
    const meta = metadata.get(suffix);
    parts.push({
      suffix,
      fileName: file.name || 'upload',
      contentType: file.type || 'application/octet-stream',
      bytes: Buffer.from(await file.arrayBuffer()),
      ...(meta ? { metadata: meta } : {}),
    });
  }
  return json(200, { AttachableResponse: uploadAttachables(ctx.realm, parts, origin) });
}

const MAX_BATCH_ITEMS = 30;

/** `/batch`: each item succeeds or fails on its own; the HTTP status stays 200. */
function batch(ctx: OpContext, body: unknown): Reply {
  const items = isRecord(body) && Array.isArray(body.BatchItemRequest) ? body.BatchItemRequest : undefined;
  if (!items) throw faults.requiredParam('BatchItemRequest');
  if (items.length > MAX_BATCH_ITEMS) {
    throw faults.businessValidation(
      `Business Validation Error: A batch request can contain at most ${MAX_BATCH_ITEMS} items (supplied ${items.length}).`,
    );
  }
  const responses = items.map((item: unknown) => {
    const bId = isRecord(item) ? String(item.bId ?? '') : '';
    try {
      if (!isRecord(item) || !bId) throw faults.requiredParam('bId');
      if (typeof item.Query === 'string') {
        const parsed = parseQuery(item.Query);
        return { bId, QueryResponse: queryResponseBody(runQuery(ctx.realm, parsed), parsed.count) };
      }
      const entity = ENTITY_NAMES.find((e) => isRecord(item[e]));
      if (!entity) throw faults.requiredParam('entity');
      const operation = String(item.operation ?? 'create').toLowerCase();
      const result = write(ctx, entity, operation, item[entity], `/v3/company/${ctx.realm.id}/batch`);
      return { bId, [entity]: result };
    } catch (err) {
      if (err instanceof QboFault) return { bId, Fault: err.toFault() };
      throw err;
    }
  });
  return json(200, { BatchItemResponse: responses });
}
