import { createHash } from 'node:crypto';
import express, { type RequestHandler } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { hubspotApp, verifyV3 } from '../hubspot/index.ts';
import type { Caller } from '../schedules/service.ts';
import { findTenantByPortal } from '../tenants/repository.ts';
import { HttpProblem } from './problem.ts';

/**
 * What the card puts in the URL from its `context`; signed with the rest of the URL, so it cannot
 * be altered on the way. HubSpot may add `appId` itself.
 */
const CardQuery = z.looseObject({
  portalId: z.string().regex(/^\d{1,20}$/, 'must be a HubSpot portal id'),
  userId: z.string().regex(/^\d{1,20}$/, 'must be a HubSpot user id'),
  userEmail: z.email().optional(),
  appId: z.string().optional(),
  /** `context.user.permissions`, comma-separated: HubSpot's word on who may manage apps. */
  permissions: z.string().max(500).optional(),
});

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

/** The permission HubSpot gives users who may install and manage apps in the portal. */
export const MANAGE_APPS = 'integrations-management-write';

/**
 * Requests from the app card and settings page (`hubspot.fetch`): no cookies, no headers of ours,
 * so the v3 signature over method, full URL, raw body and timestamp is what proves HubSpot sent them
 * for this app (it is made with the app's client secret). The portal, and the HubSpot user recorded
 * as the actor of every change, come from the signed URL.
 */
export function requireCardSignature(ctx: AppContext): RequestHandler[] {
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
      if (UNSAFE.has(req.method) && !(await firstArrival(ctx, req.header('x-hubspot-signature-v3')!)))
        throw new HttpProblem(
          'invalid_signature',
          'HubSpot signature rejected: this signed request was already received (a replay)',
        );
      const query = CardQuery.parse(singleValued(req.query));
      if (query.appId && ctx.config.hubspot.appId && query.appId !== ctx.config.hubspot.appId)
        throw new HttpProblem('forbidden', `the request is for app ${query.appId}, not this one`);
      const tenant = await findTenantByPortal(ctx.db, query.portalId);
      if (!tenant)
        throw new HttpProblem('not_found', `the app is not installed in HubSpot portal ${query.portalId}`);
      req.body = raw.length ? parseJson(raw) : undefined;
      const who = `hubspot_user:${query.userId}${query.userEmail ? ` <${query.userEmail}>` : ''}`;
      res.locals.caller = { db: ctx.db, tenant, actor: who } satisfies Caller;
      res.locals.mayManageApp = (query.permissions ?? '').split(',').includes(MANAGE_APPS);
      next();
    },
  ];
}

/**
 * The card puts portalId and userId in the URL from its context; whether HubSpot appends them to
 * a hubspot.fetch URL as well is not settled (shared/reference/hubspot.md §6.2). A parameter that
 * comes twice is taken when both say the same, and refused when they differ: one of them is not
 * HubSpot's word, and the first or the last may be the one a user slipped into the URL.
 */
function singleValued(query: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(query).map(([key, value]) => {
      if (!Array.isArray(value)) return [key, value];
      if (new Set(value.map(String)).size > 1)
        throw new HttpProblem('forbidden', `${key} is given ${value.length} times with different values`);
      return [key, value[0]];
    }),
  );
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
