import { createHmac, randomBytes } from 'node:crypto';
import { parseCookie } from 'cookie';
import type { Request, RequestHandler, Response } from 'express';
import { safeEqual } from '../security/crypto.ts';
import { HttpProblem } from './problem.ts';
import { SESSION_COOKIE } from './session.ts';

const sessionIdOf = (cookieHeader: string | undefined) =>
  parseCookie(cookieHeader ?? '')[SESSION_COOKIE] ?? '';

/** The form token of a browser session: derived from its id, so it needs no storage of its own. */
export function csrfToken(key: Buffer, cookieHeader: string | undefined): string {
  return createHmac('sha256', key)
    .update(`csrf:${sessionIdOf(cookieHeader)}`)
    .digest('base64url');
}

/** Every state-changing form of the app's pages carries the session's token (`_csrf`). */
export function requireCsrf(key: Buffer): RequestHandler {
  return (req, _res, next) => {
    const sent = (req.body as { _csrf?: unknown } | undefined)?._csrf;
    if (typeof sent !== 'string' || !safeEqual(sent, csrfToken(key, req.header('cookie'))))
      throw new HttpProblem(
        'forbidden',
        'this form expired or did not come from the app; reload the page and try again',
      );
    next();
  };
}

/**
 * Before a session exists (a link that signs in), a form's token is bound to a random cookie set
 * with the confirmation page. SameSite=Strict: a form on another site never sends it, so nobody can
 * sign a browser in by a POST of their own (login CSRF).
 */
const CONFIRM_COOKIE = 'mb_confirm';
const CONFIRM_TTL_MS = 15 * 60_000;

export function confirmationToken(key: Buffer, req: Request, res: Response, secure: boolean): string {
  let id = parseCookie(req.header('cookie') ?? '')[CONFIRM_COOKIE];
  if (!id || !/^[A-Za-z0-9_-]{32,64}$/.test(id)) {
    id = randomBytes(24).toString('base64url');
    res.cookie(CONFIRM_COOKIE, id, { httpOnly: true, sameSite: 'strict', secure, maxAge: CONFIRM_TTL_MS });
  }
  return createHmac('sha256', key).update(`confirm:${id}`).digest('base64url');
}

/** The confirmation form's POST: its token must match the cookie the page set in this browser. */
export function requireConfirmation(key: Buffer): RequestHandler {
  return (req, _res, next) => {
    const id = parseCookie(req.header('cookie') ?? '')[CONFIRM_COOKIE];
    const sent = (req.body as { _csrf?: unknown } | undefined)?._csrf;
    const expected = id ? createHmac('sha256', key).update(`confirm:${id}`).digest('base64url') : '';
    if (!id || typeof sent !== 'string' || !safeEqual(sent, expected))
      throw new HttpProblem(
        'forbidden',
        'this confirmation did not come from the page the link opened in this browser; open the link again',
      );
    next();
  };
}
