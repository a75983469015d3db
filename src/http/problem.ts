import type { ErrorRequestHandler, Response } from 'express';
import { z } from 'zod';
import { DomainError, type Issue } from '../domain/errors.ts';
import type { Logger } from '../log.ts';
import { sqlStateOf } from '../store/db.ts';
import { page } from './pages.ts';

/** HTTP status of each stable error code; anything unlisted is an unprocessable request. */
const STATUS: Record<string, number> = {
  malformed_json: 400,
  malformed_body: 400,
  unsupported_media_type: 415,
  payload_too_large: 413,
  unauthorized: 401,
  invalid_signature: 401,
  forbidden: 403,
  not_found: 404,
  unknown_milestone: 404,
  version_conflict: 409,
  concurrent_change: 409,
  illegal_transition: 409,
  milestone_locked: 409,
  schedule_locked: 409,
  schedule_frozen: 409,
  already_accepted: 409,
  idempotency_key_reused: 409,
  milestone_disputed: 409,
  template_exists: 409,
  template_built_in: 409,
  hubspot_not_installed: 409,
  hubspot_reauth_required: 409,
  hubspot_not_found: 404,
  unknown_deal: 404,
  hubspot_busy: 503,
  hubspot_error: 502,
  hubspot_forbidden: 502,
  hubspot_unavailable: 502,
  quickbooks_not_connected: 409,
  quickbooks_reconnect_required: 409,
  quickbooks_realm_in_use: 409,
  quickbooks_error: 502,
  rate_limited: 429,
  internal_error: 500,
  unavailable: 503,
};

/** Seconds after which a refusal for want of budget is worth trying again (HubSpot's window is 10 s). */
const RETRY_AFTER_S: Record<string, number> = { hubspot_busy: 10, rate_limited: 10 };

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'Unprocessable request',
  429: 'Too many requests',
  500: 'Internal error',
  503: 'Service unavailable',
};

export class HttpProblem extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly errors: Issue[] = [],
  ) {
    super(message);
  }
}

/**
 * RFC 9457 problem details: the code is stable, `errors` names every failing field. A browser
 * (one that prefers HTML, e.g. on an OAuth redirect) gets the same as a page.
 */
export function sendProblem(
  res: Response,
  code: string,
  detail: string,
  errors: Issue[] = [],
  instance?: string,
) {
  const status = STATUS[code] ?? 422;
  const title = TITLES[status] ?? 'Error';
  const retryAfter = RETRY_AFTER_S[code];
  if (retryAfter && !res.hasHeader('Retry-After')) res.setHeader('Retry-After', String(retryAfter));
  if (res.req.accepts(['application/json', 'text/html']) === 'text/html') {
    res
      .status(status)
      .type('html')
      .send(page({ title, heading: title, body: [detail, ...errors.map((e) => e.message)] }));
    return;
  }
  res
    .status(status)
    .type('application/problem+json')
    .json({
      type: `/problems/${code}`,
      title,
      status,
      code,
      detail,
      ...(errors.length ? { errors } : {}),
      ...(instance ? { instance } : {}),
    });
}

export function pathOf(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, part) => {
    if (typeof part === 'number') return `${out}[${part}]`;
    return out ? `${out}.${String(part)}` : String(part);
  }, '');
}

/** Zod issues as problem `errors`, one per failing field (an unknown field is its own path). */
export function zodIssues(error: z.ZodError, prefix = ''): Issue[] {
  return error.issues.flatMap((issue) => {
    const base = [prefix, pathOf(issue.path)].filter(Boolean).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => {
        const path = base ? `${base}.${key}` : key;
        return { path, code: 'unknown_field', message: `${path} is not a known field` };
      });
    }
    const path = base || '(body)';
    return [{ path, code: issue.code, message: `${path}: ${issue.message}` }];
  });
}

/** What a refused value was, in the request's terms (SQLSTATE class 22, "data exception"). */
const DATA_REFUSALS: Record<string, string> = {
  '22003': 'a number in the request is out of range',
  '22021': 'the request holds a character that cannot be stored (such as U+0000)',
  '22P05': 'the request holds a character that cannot be stored (such as U+0000)',
  other: 'the request holds a value that cannot be stored',
};

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    // The path only: a query may carry a link token or an OAuth code, which an answer never repeats.
    const instance = `${req.baseUrl}${req.path}`;
    if (error instanceof HttpProblem)
      return sendProblem(res, error.code, error.message, error.errors, instance);
    if (error instanceof DomainError)
      return sendProblem(res, error.code, error.message, error.issues, instance);
    if (error instanceof z.ZodError) {
      const errors = zodIssues(error);
      return sendProblem(res, 'invalid_request', errors.map((e) => e.message).join('; '), errors, instance);
    }
    const type = (error as { type?: string }).type;
    if (type === 'entity.parse.failed') {
      return sendProblem(
        res,
        'malformed_json',
        `the request body is not valid JSON: ${(error as Error).message}`,
        [],
        instance,
      );
    }
    if (type === 'entity.too.large')
      return sendProblem(res, 'payload_too_large', 'the request body is too large', [], instance);
    if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
      return sendProblem(res, 'unsupported_media_type', (error as Error).message, [], instance);
    }
    // A body that cannot be read as sent (a Content-Encoding it does not match, say): the body
    // parsers' client errors (http-errors, `expose`) are the request's fault, not ours.
    const { status, expose } = error as { status?: unknown; expose?: unknown };
    if (expose === true && typeof status === 'number' && status >= 400 && status < 500) {
      return sendProblem(
        res,
        'malformed_body',
        `the request body could not be read: ${(error as Error).message}`,
        [],
        instance,
      );
    }
    // A value the database refuses (a character it cannot store, say) is the request's fault; its
    // words (which quote the value and name the column type) stay in the log. Fields with known
    // limits are checked before they get here, by name.
    const state = sqlStateOf(error);
    if (state?.startsWith('22')) {
      ((res.locals.logger as Logger | undefined) ?? logger).warn(
        { err: error, path: req.path },
        'a value the database refused',
      );
      return sendProblem(res, 'invalid_request', DATA_REFUSALS[state] ?? DATA_REFUSALS.other!, [], instance);
    }
    ((res.locals.logger as Logger | undefined) ?? logger).error(
      { err: error, path: req.path },
      'unhandled error',
    );
    return sendProblem(
      res,
      'internal_error',
      'something went wrong on our side; it has been logged',
      [],
      instance,
    );
  };
}
