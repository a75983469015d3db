import { parseCookie } from 'cookie';
import { and, eq, gt } from 'drizzle-orm';
import type { Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import { randomSecret, sha256 } from '../security/crypto.ts';
import type { Db } from '../store/db.ts';
import { sessions, shareLinks } from '../store/schema.ts';
import { HttpProblem } from './problem.ts';

export const SESSION_COOKIE = 'mb_session';

export interface Session {
  tenantId: string;
  userEmail: string | null;
  /** A bookkeeper's session from a share link: it may look, not change anything. */
  shareLinkId?: string | null;
}

/** What the HubSpot install sets: randomSecret('', 32), base64url. Anything else is not ours. */
const SessionId = z.string().regex(/^[A-Za-z0-9_-]{16,128}$/);

/**
 * Pages for a signed-in admin: the browser session the HubSpot install started. The cookie holds
 * the session id, the table only its hash, so a database leak yields no usable session.
 */
export function requireSession(db: Db): RequestHandler {
  return async (req, res, next) => {
    const id = SessionId.safeParse(parseCookie(req.header('cookie') ?? '')[SESSION_COOKIE]);
    const now = new Date();
    const [row] = id.success
      ? await db
          .select({
            tenantId: sessions.tenantId,
            userEmail: sessions.userEmail,
            shareLinkId: sessions.shareLinkId,
            // drizzle nulls a left-joined object by its first field: lead with one that is never null.
            link: { id: shareLinks.id, revokedAt: shareLinks.revokedAt, expiresAt: shareLinks.expiresAt },
          })
          .from(sessions)
          .leftJoin(shareLinks, eq(shareLinks.id, sessions.shareLinkId))
          .where(and(eq(sessions.idHash, sha256(id.data)), gt(sessions.expiresAt, now)))
      : [];
    if (!row) {
      throw new HttpProblem('unauthorized', 'sign in by opening the app from HubSpot (install it first)');
    }
    if (row.shareLinkId && (!row.link || row.link.revokedAt || row.link.expiresAt <= now)) {
      throw new HttpProblem(
        'unauthorized',
        `the share link of this session was ${row.link?.revokedAt ? 'revoked' : 'expired'}; ask the admin for a new one`,
      );
    }
    res.locals.session = {
      tenantId: row.tenantId,
      userEmail: row.userEmail,
      shareLinkId: row.shareLinkId,
    } satisfies Session;
    next();
  };
}

export const sessionOf = (res: { locals: Record<string, unknown> }) => res.locals.session as Session;

/** The tenant this browser is signed in to now, if any (a confirmation page names it). */
export async function signedInTenant(db: Db, req: Request): Promise<string | undefined> {
  const id = SessionId.safeParse(parseCookie(req.header('cookie') ?? '')[SESSION_COOKIE]);
  if (!id.success) return undefined;
  const [row] = await db
    .select({ tenantId: sessions.tenantId })
    .from(sessions)
    .where(and(eq(sessions.idHash, sha256(id.data)), gt(sessions.expiresAt, new Date())));
  return row?.tenantId;
}

/** Signs this browser out: its session row goes, and so does the cookie. */
export async function endSession(db: Db, req: Request, res: Response): Promise<void> {
  const id = SessionId.safeParse(parseCookie(req.header('cookie') ?? '')[SESSION_COOKIE]);
  if (id.success) await db.delete(sessions).where(eq(sessions.idHash, sha256(id.data)));
  res.clearCookie(SESSION_COOKIE);
}

/** Every browser session of the tenant ends (a lost laptop, a bookkeeper gone): answers how many. */
export async function endTenantSessions(db: Db, tenantId: string): Promise<number> {
  const ended = await db
    .delete(sessions)
    .where(eq(sessions.tenantId, tenantId))
    .returning({ id: sessions.idHash });
  return ended.length;
}

const SESSION_TTL_MS = 12 * 60 * 60_000;

/** Signs the browser in for the tenant: a random id in an HttpOnly cookie, its hash in the table. */
export async function startSession(
  db: Db,
  res: Response,
  session: Session,
  opts: { secure: boolean },
): Promise<void> {
  const id = randomSecret('', 32);
  await db.insert(sessions).values({
    idHash: sha256(id),
    tenantId: session.tenantId,
    userEmail: session.userEmail,
    shareLinkId: session.shareLinkId ?? null,
    expiresAt: new Date(Date.now() + SESSION_TTL_MS),
  });
  res.cookie(SESSION_COOKIE, id, {
    httpOnly: true,
    sameSite: 'lax',
    secure: opts.secure,
    maxAge: SESSION_TTL_MS,
  });
}

/** Changes need a session of the tenant's own users; a share link's bookkeeper only looks. */
export const requireWritableSession: RequestHandler = (_req, res, next) => {
  if (sessionOf(res).shareLinkId)
    throw new HttpProblem(
      'forbidden',
      'this portfolio was shared read-only; ask an admin in HubSpot to retry',
    );
  next();
};
