import type { NextFunction, Request, Response } from 'express';
import type { SandboxContext } from './context.ts';
import { errorBody, sendError } from './errors.ts';
import { SECONDLY_BODY, TEN_SECONDLY_BODY } from './rate-limit.ts';
import type { AccessTokenRecord, ObjectTypeName, Portal } from './types.ts';

/** Every scope the sandbox knows; tokens minted with `issueTokens` get these unless told otherwise. */
export const ALL_SCOPES = [
  'oauth',
  'crm.objects.deals.read',
  'crm.objects.deals.write',
  'crm.objects.companies.read',
  'crm.objects.companies.write',
  'crm.objects.contacts.read',
  'crm.objects.contacts.write',
  'crm.schemas.deals.read',
  'crm.schemas.deals.write',
  'crm.schemas.companies.read',
  'crm.schemas.contacts.read',
  'settings.users.read',
];

const NO_CREDENTIALS =
  'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview';

export interface AuthedLocals {
  access: AccessTokenRecord;
  portal: Portal;
}

export function authed(res: Response): AuthedLocals {
  return res.locals as AuthedLocals;
}

/**
 * Bearer authentication followed by the per-portal rate limits. Search has its own per-second
 * budget and, as the reference states, does not draw from the ten-second budget.
 */
export function requireBearer(ctx: SandboxContext, kind: 'standard' | 'search' = 'standard') {
  return (req: Request, res: Response, next: NextFunction) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const access = match ? ctx.state.accessTokens.get(match[1]!) : undefined;
    if (!access || access.revoked) {
      return sendError(res, 401, NO_CREDENTIALS, 'INVALID_AUTHENTICATION');
    }
    const now = Date.now();
    if (access.expiresAt <= now) {
      const minutes = Math.floor((now - access.expiresAt) / 60_000);
      return sendError(
        res,
        401,
        `The OAuth token used to make this call expired ${minutes} minute(s) ago.`,
        'EXPIRED_AUTHENTICATION',
      );
    }
    const portal = ctx.state.portals.get(access.portalId);
    if (!portal) return sendError(res, 401, NO_CREDENTIALS, 'INVALID_AUTHENTICATION');
    res.locals.access = access;
    res.locals.portal = portal;

    const key = String(portal.id);
    const limiter = ctx.limiter;
    if (kind === 'search') {
      const search = ctx.searchLimiter.take(key, now);
      setRateHeaders(res, limiter.max, limiter.remaining(key, now), limiter.windowMs);
      if (!search.allowed) {
        res.status(429).json({
          ...errorBody(SECONDLY_BODY.message, undefined),
          errorType: 'RATE_LIMIT',
          policyName: SECONDLY_BODY.policyName,
        });
        return;
      }
      return next();
    }
    const taken = limiter.take(key, now);
    setRateHeaders(res, limiter.max, taken.remaining, limiter.windowMs);
    if (!taken.allowed) {
      res.status(429).json({
        ...errorBody(TEN_SECONDLY_BODY.message, undefined),
        errorType: 'RATE_LIMIT',
        policyName: TEN_SECONDLY_BODY.policyName,
      });
      return;
    }
    next();
  };
}

function setRateHeaders(res: Response, max: number, remaining: number, intervalMs: number): void {
  res.set('X-HubSpot-RateLimit-Max', String(max));
  res.set('X-HubSpot-RateLimit-Remaining', String(remaining));
  res.set('X-HubSpot-RateLimit-Interval-Milliseconds', String(intervalMs));
}

export function objectScope(type: ObjectTypeName, mode: 'read' | 'write'): string {
  // Notes and tasks are engagements guarded by the contacts scopes.
  const objectName = type === 'notes' || type === 'tasks' ? 'contacts' : type;
  return `crm.objects.${objectName}.${mode}`;
}

/** Answers 403 MISSING_SCOPES unless the token holds one of `anyOf`; returns whether the call may go on. */
export function hasScope(ctx: SandboxContext, res: Response, anyOf: string[]): boolean {
  if (!ctx.config.enforceScopes) return true;
  const { access } = authed(res);
  if (anyOf.some((s) => access.scopes.includes(s))) return true;
  sendError(
    res,
    403,
    "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
    'MISSING_SCOPES',
    {
      errors: [
        {
          message: 'One or more of the following scopes are required.',
          context: { requiredGranularScopes: anyOf },
        },
      ],
      links: { scopes: 'https://developers.hubspot.com/scopes' },
    },
  );
  return false;
}
