import { confirmLink } from '../support/links.ts';

/**
 * The two OAuth redirect flows as a browser walks them, against the running app and sandboxes:
 * every hop is a real HTTP request and every redirect is followed by hand, so the app's state
 * checks, code exchanges and session cookie are the ones a person would exercise.
 */

async function hop(url: string, cookie?: string): Promise<Response> {
  const response = await fetch(url, {
    redirect: 'manual',
    headers: cookie ? { cookie } : {},
    signal: AbortSignal.timeout(15_000),
  });
  return response;
}

async function expectRedirect(response: Response, what: string): Promise<string> {
  const location = response.headers.get('location');
  if (response.status < 300 || response.status >= 400 || !location) {
    const body = await response.text().catch(() => '');
    throw new Error(`${what}: expected a redirect, got HTTP ${response.status}\n${body.slice(0, 800)}`);
  }
  return new URL(location, response.url).toString();
}

async function expectPage(response: Response, what: string): Promise<string> {
  const body = await response.text();
  if (response.status !== 200) throw new Error(`${what}: HTTP ${response.status}\n${body.slice(0, 800)}`);
  return body;
}

/** The `name=value` of each cookie a response sets, as a browser would send them back. */
const cookiesOf = (response: Response) => response.headers.getSetCookie().map((c) => c.split(';')[0]!);

/**
 * GET /oauth/hubspot/install → HubSpot's authorize page (auto-approve) → the app's callback, in one
 * browser (the install binds its state to a cookie). Answers the `mb_session=…` cookie it set.
 */
export async function installHubSpot(appUrl: string): Promise<string> {
  const start = await hop(`${appUrl}/oauth/hubspot/install`);
  const authorize = await expectRedirect(start, 'HubSpot install');
  const callback = await expectRedirect(await hop(authorize), 'HubSpot authorize');
  const done = await hop(callback, cookiesOf(start).join('; '));
  const setCookie = done.headers.getSetCookie().find((c) => c.startsWith('mb_session='));
  await expectPage(done, 'HubSpot callback');
  if (!setCookie) throw new Error('HubSpot callback: no mb_session cookie was set');
  return setCookie.split(';')[0]!;
}

/** GET /oauth/quickbooks/connect (signed in) → Intuit's authorize page (approve) → the app's callback. */
export async function connectQuickBooks(appUrl: string, cookie: string): Promise<string> {
  const start = await hop(`${appUrl}/oauth/quickbooks/connect`, cookie);
  const authorize = await expectRedirect(start, 'QuickBooks connect');
  const callback = await expectRedirect(await hop(authorize), 'QuickBooks authorize');
  const realmId = new URL(callback).searchParams.get('realmId');
  await expectPage(await hop(callback, [cookie, ...cookiesOf(start)].join('; ')), 'QuickBooks callback');
  if (!realmId) throw new Error('QuickBooks authorize: the callback carried no realmId');
  return realmId;
}

/**
 * The window the settings page opens: the single-use link signs it in and sends it to Intuit's
 * authorize page (approve) → the app's callback, with the cookies that window was given.
 */
export async function connectThroughLink(link: string): Promise<string> {
  // The link's page names the portal; continuing signs the window in and goes on to Intuit.
  const { answer: start, cookie } = await confirmLink(link);
  const authorize = await expectRedirect(start, 'QuickBooks connect link');
  const callback = await expectRedirect(await hop(authorize), 'QuickBooks authorize');
  const realmId = new URL(callback).searchParams.get('realmId');
  await expectPage(await hop(callback, [cookie, ...cookiesOf(start)].join('; ')), 'QuickBooks callback');
  if (!realmId) throw new Error('QuickBooks authorize: the callback carried no realmId');
  return realmId;
}
