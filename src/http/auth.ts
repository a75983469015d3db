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
    next();
  };
}

export const callerOf = (res: { locals: Record<string, unknown> }) => res.locals.caller as Caller;
