import { mintSignInLink } from '../../src/tenants/sign-in-links.ts';
import type { TestApp } from './app.ts';
/**
 * Opens a link that signs a browser in as a person does: the page it shows (which names the portal)
 * and then its "continue" form, posted from the page's own origin with the cookies the page set.
 * `cookie`: what the browser already holds. Answers the form's answer (a 303 with the session cookie,
 * or Intuit's redirect for a connect link), unfollowed, and the page's text.
 */
export async function confirmLink(
  url: string,
  opts: { cookie?: string; headers?: Record<string, string> } = {},
) {
  const shown = await fetch(url, {
    redirect: 'manual',
    headers: { ...opts.headers, ...(opts.cookie ? { cookie: opts.cookie } : {}) },
  });
  const html = await shown.text();
  if (shown.status !== 200) throw new Error(`${url} answered ${shown.status}: ${html.slice(0, 300)}`);
  const action = /<form method="post" action="([^"]+)">/.exec(html)?.[1];
  if (!action) throw new Error(`no confirmation form on ${url}: ${html.slice(0, 300)}`);
  const fields = [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map(
    ([, name, value]) => [name!, unescapeHtml(value!)] as [string, string],
  );
  const set = shown.headers.getSetCookie().map((c) => c.split(';')[0]!);
  const cookie = [opts.cookie, ...set].filter(Boolean).join('; ');
  const origin = new URL(url).origin;
  const answer = await fetch(`${origin}${unescapeHtml(action)}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { ...opts.headers, 'content-type': 'application/x-www-form-urlencoded', origin, cookie },
    body: new URLSearchParams(fields).toString(),
  });
  return { page: html, answer, cookie };
}

const unescapeHtml = (text: string) =>
  text
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');

/** The `mb_session=…` pair a response set, if any. */
export const sessionCookie = (res: Response) =>
  res.headers
    .getSetCookie()
    .find((c) => c.startsWith('mb_session='))
    ?.split(';')[0];

/** The same walk in-process, through supertest (`t.http`): answers the form's answer. */
export async function confirmLinkIn(
  http: import('supertest').Agent | ReturnType<typeof import('supertest')>,
  path: string,
) {
  const shown = await http.get(path);
  if (shown.status !== 200) throw new Error(`${path} answered ${shown.status}: ${shown.text.slice(0, 300)}`);
  const action = /<form method="post" action="([^"]+)">/.exec(shown.text)?.[1];
  if (!action) throw new Error(`no confirmation form on ${path}`);
  const fields = [...shown.text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map(
    ([, name, value]) => [name!, unescapeHtml(value!)] as [string, string],
  );
  const cookies = ((shown.headers['set-cookie'] as unknown as string[] | undefined) ?? []).map(
    (c) => c.split(';')[0]!,
  );
  return http
    .post(unescapeHtml(action))
    .set('Cookie', cookies.join('; '))
    .type('form')
    .send(new URLSearchParams(fields).toString());
}

/**
 * A browser session of the tenant's, as "Open portfolio" gives one: a minted link, its page
 * confirmed (in-process). Answers the confirming answer and the `mb_session=…` pair it set.
 */
export async function portfolioSession(app: TestApp, tenantId: string) {
  const { token } = await mintSignInLink(app.database.db, {
    tenantId,
    purpose: 'portfolio',
    actor: 'test',
    userEmail: null,
  });
  const answer = await confirmLinkIn(app.http, `/app/sign-in?link=${token}`);
  const set = (answer.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
  return { answer, setCookie: set, cookie: set.find((c) => c.startsWith('mb_session='))?.split(';')[0] };
}
