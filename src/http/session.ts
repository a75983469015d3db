import { and, eq, gt } from 'drizzle-orm';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { sha256 } from '../security/crypto.ts';
import type { Db } from '../store/db.ts';
import { sessions } from '../store/schema.ts';
import { HttpProblem } from './problem.ts';

export const SESSION_COOKIE = 'mb_session';

export interface Session {
  tenantId: string;
  userEmail: string | null;
}

/** What the HubSpot install sets: randomSecret('', 32), base64url. Anything else is not ours. */
const SessionId = z.string().regex(/^[A-Za-z0-9_-]{16,128}$/);

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * Pages for a signed-in admin: the browser session the HubSpot install started. The cookie holds
 * the session id, the table only its hash, so a database leak yields no usable session.
 */
export function requireSession(db: Db): RequestHandler {
  return async (req, res, next) => {
    const id = SessionId.safeParse(cookie(req.header('cookie'), SESSION_COOKIE));
    const [row] = id.success
      ? await db
          .select({ tenantId: sessions.tenantId, userEmail: sessions.userEmail })
          .from(sessions)
          .where(and(eq(sessions.idHash, sha256(id.data)), gt(sessions.expiresAt, new Date())))
      : [];
    if (!row) {
      throw new HttpProblem('unauthorized', 'sign in by opening the app from HubSpot (install it first)');
    }
    res.locals.session = row satisfies Session;
    next();
  };
}

export const sessionOf = (res: { locals: Record<string, unknown> }) => res.locals.session as Session;
