import type { RequestHandler } from 'express';
import helmet from 'helmet';
import { HttpProblem } from './problem.ts';

/**
 * Security headers on every response (helmet's defaults: HSTS, nosniff, referrer policy…) and a
 * content security policy for the app's own small pages: their styles are inline, they load
 * nothing from elsewhere and no one may frame them: the card and the settings page open the
 * portfolio in a window of its own, so no page of the app is framed, by HubSpot or anyone.
 * Nothing the app answers may be kept by a browser or a proxy: every answer is one tenant's
 * receivables, schedules or tokens, or says something about them (the queue dashboard's scripts, the
 * only static files, are small and for operators alone).
 */
export function securityHeaders(): RequestHandler[] {
  const noStore: RequestHandler = (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  };
  return [
    noStore,
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'none'"],
          styleSrc: ["'unsafe-inline'"],
          imgSrc: ["'self'"],
          formAction: ["'self'"],
          baseUri: ["'none'"],
          frameAncestors: ["'none'"],
        },
      },
      frameguard: { action: 'deny' },
    }),
  ];
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * A state-changing request made with the session cookie must come from the app's own pages:
 * browsers say where a request comes from (`Sec-Fetch-Site`, else `Origin`), and SameSite alone
 * lets same-site subdomains and older browsers through.
 */
export function sameOriginOnly(publicUrl: string): RequestHandler {
  const origin = new URL(publicUrl).origin;
  return (req, _res, next) => {
    if (!UNSAFE.has(req.method)) return next();
    const site = req.header('sec-fetch-site');
    const from = req.header('origin');
    const cross = site ? site !== 'same-origin' && site !== 'none' : from !== undefined && from !== origin;
    if (cross)
      throw new HttpProblem('forbidden', `a ${req.method} with the session must come from ${origin}`);
    next();
  };
}
