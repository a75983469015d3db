import { createHash } from 'node:crypto';
import express, { type Request, type RequestHandler } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { hubspotApp, verifyV3 } from '../hubspot/index.ts';
import type { Caller } from '../schedules/service.ts';
import { findTenantByPortal } from '../tenants/repository.ts';
import { confirmAppManager } from './app-managers.ts';
import { HttpProblem } from './problem.ts';

/**
 * What HubSpot's proxy appends to every `hubspot.fetch` URL, inside what it signs (README, "How card
 * requests are authenticated"). The card writes none of them: a value the card's code writes is
 * whatever the browser it runs in chose.
 */
const HubSpotAdds = z.object({
  portalId: z.string().regex(/^\d{1,20}$/, 'must be a HubSpot portal id'),
  userId: z.string().regex(/^\d{1,20}$/, 'must be a HubSpot user id'),
  userEmail: z.email().optional(),
  appId: z
    .string()
    .regex(/^\d{1,20}$/, 'must be a HubSpot app id')
    .optional(),
});
const HUBSPOT_KEYS = new Set(Object.keys(HubSpotAdds.shape));

/**
 * A card URL carries HubSpot's four keys and at most a route's own few (the portfolio's four
 * filters): anything longer is not a request our card makes.
 */
export const MAX_CARD_QUERY_KEYS = 12;

/**
 * The query keys each card route declares besides HubSpot's; every other route takes none.
 * Paths are relative to /card/v1.
 */
export type DeclaredQuery = (method: string, path: string) => readonly string[];

/** How long a signature is honoured (5 minutes old, 30 s ahead): a replay within it is refused. */
const SIGNATURE_LIFETIME_MS = 5 * 60_000 + 30_000;
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * A v3 signature carries no nonce: the same signed request sent again within its five minutes
 * verifies again. Each signed change is remembered in Redis (shared by every web process) for as
 * long as its signature holds, and a second arrival is refused. Reads are left alone: a repeated
 * GET changes nothing. Without Redis a change cannot be told from a replay, so it is refused.
 */
async function firstArrival(ctx: AppContext, signature: string): Promise<boolean> {
  const key = `card-signature:${createHash('sha256').update(signature).digest('hex')}`;
  try {
    return (await ctx.redis.set(key, '1', 'PX', SIGNATURE_LIFETIME_MS, 'NX')) === 'OK';
  } catch {
    throw new HttpProblem('unavailable', 'the request cannot be checked for replay right now; try again');
  }
}

/**
 * Requests from the app card and settings page (`hubspot.fetch`): no cookies, no headers of ours,
 * so the v3 signature over method, full URL, raw body and timestamp is what proves HubSpot sent them
 * for this app. The portal and the user come from the keys HubSpot appends; the raw query is read
 * here, whole, so that no key can hide behind a parser's limit, and a key given twice (the card's
 * copy beside HubSpot's), a key the route does not declare, or too many keys are refused.
 */
export function requireCardSignature(ctx: AppContext, declared: DeclaredQuery): RequestHandler[] {
  return [
    express.raw({ type: () => true, limit: '1mb' }),
    async (req, res, next) => {
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const check = verifyV3({
        clientSecret: hubspotApp(ctx.config).clientSecret,
        method: req.method,
        url: `${ctx.config.publicUrl}${req.originalUrl}`,
        rawBody: raw,
        signature: req.header('x-hubspot-signature-v3'),
        timestamp: req.header('x-hubspot-request-timestamp'),
      });
      if (!check.ok)
        throw new HttpProblem('invalid_signature', `HubSpot signature rejected: ${check.reason}`);
      const query = cardQuery(req, declared(req.method, req.path));
      const hubspot = HubSpotAdds.safeParse(query.hubspot);
      if (!hubspot.success)
        throw new HttpProblem(
          'forbidden',
          `the request does not carry what HubSpot adds to a card request (${hubspot.error.issues
            .map((i) => `${i.path.join('.')}: ${i.message}`)
            .join('; ')})`,
        );
      const who = hubspot.data;
      if (who.appId && ctx.config.hubspot.appId && who.appId !== ctx.config.hubspot.appId)
        throw new HttpProblem('forbidden', `the request is for app ${who.appId}, not this one`);
      if (UNSAFE.has(req.method) && !(await firstArrival(ctx, req.header('x-hubspot-signature-v3')!)))
        throw new HttpProblem(
          'invalid_signature',
          'HubSpot signature rejected: this signed request was already received (a replay)',
        );
      const tenant = await findTenantByPortal(ctx.db, who.portalId);
      if (!tenant)
        throw new HttpProblem('not_found', `the app is not installed in HubSpot portal ${who.portalId}`);
      // Routes read only their own keys; HubSpot's are not filters.
      Object.defineProperty(req, 'query', { value: query.own, configurable: true, writable: true });
      req.body = raw.length ? parseJson(raw) : undefined;
      const actor = `hubspot_user:${who.userId}${who.userEmail ? ` <${who.userEmail}>` : ''}`;
      res.locals.caller = { db: ctx.db, tenant, actor } satisfies Caller;
      res.locals.mayManageApp = () => confirmAppManager(ctx, tenant, who.userId);
      next();
    },
  ];
}

/**
 * The signed URL's query, split on `&` and `=` and percent-decoded by the app itself, every key
 * counted (a parser with a key limit would drop what follows it).
 */
function cardQuery(req: Request, routeKeys: readonly string[]) {
  const search = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '';
  const pairs = search === '' ? [] : search.split('&');
  if (pairs.length > MAX_CARD_QUERY_KEYS)
    throw new HttpProblem(
      'forbidden',
      `the query has ${pairs.length} parameters; a card request has at most ${MAX_CARD_QUERY_KEYS}`,
    );
  const hubspot: Record<string, string> = {};
  const own: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    const key = decode(at < 0 ? pair : pair.slice(0, at));
    const value = at < 0 ? '' : decode(pair.slice(at + 1));
    const into = HUBSPOT_KEYS.has(key) ? hubspot : routeKeys.includes(key) ? own : undefined;
    if (!into)
      throw new HttpProblem(
        'forbidden',
        `the query parameter "${key.slice(0, 40)}" is not one this route takes${
          routeKeys.length ? ` (it takes ${routeKeys.join(', ')})` : ''
        }`,
      );
    if (Object.hasOwn(into, key))
      throw new HttpProblem('forbidden', `the query parameter ${key} is given more than once`);
    into[key] = value;
  }
  return { hubspot, own };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    throw new HttpProblem('forbidden', 'the query is not valid percent-encoding');
  }
}

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw new HttpProblem(
      'malformed_json',
      `the request body is not valid JSON: ${(error as Error).message}`,
    );
  }
}
