import type { RequestHandler } from 'express';
import type { Caller } from '../schedules/service.ts';
import type { Db } from '../store/db.ts';
import { authenticateApiKey } from '../tenants/repository.ts';
import { HttpProblem } from './problem.ts';

/** Tenant API keys: `Authorization: Bearer mbk_…`, stored hashed. */
export function requireApiKey(db: Db): RequestHandler {
  return async (req, res, next) => {
    const header = req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      throw new HttpProblem('unauthorized', 'send an API key as "Authorization: Bearer <key>"');
    }
    const found = await authenticateApiKey(db, match[1]!);
    if (!found) {
      res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw new HttpProblem('unauthorized', 'the API key is unknown or revoked');
    }
    res.locals.caller = { db, tenant: found.tenant, actor: `api_key:${found.keyId}` } satisfies Caller;
    // A key is the tenant's own credential, issued by one of its admins.
    res.locals.mayManageApp = true;
    next();
  };
}

export const callerOf = (res: { locals: Record<string, unknown> }) => res.locals.caller as Caller;

/**
 * Settings and templates change what every user of the portal gets: only for callers who may
 * manage the app. An API key may (an admin issued it); a card caller's rights are asked of HubSpot
 * (`mayManageApp` is then the check, which refuses with its reason).
 */
export const requireAppManager: RequestHandler = async (_req, res, next) => {
  const may = res.locals.mayManageApp as true | (() => Promise<void>) | undefined;
  if (typeof may === 'function') await may();
  else if (may !== true)
    throw new HttpProblem(
      'forbidden',
      "only the portal's app managers can change the app's settings and templates",
    );
  next();
};

/** The HubSpot user's email a card caller's actor names (`hubspot_user:<id> <email>`), if any. */
export const emailOf = (actor: string): string | null => /<(.+)>$/.exec(actor)?.[1] ?? null;
