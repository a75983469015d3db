import { createHmac } from 'node:crypto';
import { parseCookie } from 'cookie';
import type { RequestHandler } from 'express';
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
