import { randomBytes } from 'node:crypto';
import { parseCookie } from 'cookie';
import { and, eq, gt } from 'drizzle-orm';
import type { Request, Response } from 'express';
import { safeEqual, sha256 } from '../security/crypto.ts';
import type { Db } from '../store/db.ts';
import { type OAuthProvider, oauthStates } from '../store/schema.ts';

const STATE_TTL_MS = 10 * 60_000;
const cookieName = (provider: OAuthProvider) => `mb_oauth_${provider}`;

/**
 * The authorize URL with a single-use `state`, kept server-side until the callback or its expiry,
 * and bound to this browser by a short-lived HttpOnly cookie: a callback URL someone else started
 * (login CSRF) finds no matching cookie in the victim's browser. SameSite=Lax still sends it on the
 * platform's top-level redirect back. The URL is built first, so an app that is not configured
 * stores nothing.
 */
export async function authorizeWithState(
  db: Db,
  res: Response,
  provider: OAuthProvider,
  tenantId: string | null,
  authorizeUrl: (state: string) => string,
  opts: { secure: boolean },
): Promise<string> {
  const state = randomBytes(24).toString('base64url');
  const url = authorizeUrl(state);
  const browser = randomBytes(24).toString('base64url');
  await db.insert(oauthStates).values({
    state,
    provider,
    tenantId,
    browserHash: sha256(browser),
    expiresAt: new Date(Date.now() + STATE_TTL_MS),
  });
  res.cookie(cookieName(provider), browser, {
    httpOnly: true,
    sameSite: 'lax',
    secure: opts.secure,
    maxAge: STATE_TTL_MS,
    path: `/oauth/${provider}`,
  });
  return url;
}

/**
 * Deleting the state is what makes it single-use: a replay finds nothing. Answers the state, or
 * why not: unknown (expired, used, forged), or started in another browser.
 */
export async function consumeState(
  db: Db,
  req: Request,
  res: Response,
  provider: OAuthProvider,
  state: string,
): Promise<{ row: typeof oauthStates.$inferSelect } | { refused: 'unknown' | 'other_browser' }> {
  const [row] = await db
    .delete(oauthStates)
    .where(
      and(
        eq(oauthStates.state, state),
        eq(oauthStates.provider, provider),
        gt(oauthStates.expiresAt, new Date()),
      ),
    )
    .returning();
  res.clearCookie(cookieName(provider), { path: `/oauth/${provider}` });
  const browser = parseCookie(req.header('cookie') ?? '')[cookieName(provider)];
  if (!row) return { refused: 'unknown' };
  if (!browser || !safeEqual(sha256(browser), row.browserHash)) return { refused: 'other_browser' };
  return { row };
}
