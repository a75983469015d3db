import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Billing, startBilling } from '../support/billing.ts';
import { confirmLink } from '../support/links.ts';
import { refusedInvoice } from './refused-invoice.ts';

let b: Billing;
let appUrl: string;
beforeAll(async () => {
  b = await startBilling({ listen: true });
  appUrl = b.t.ctx.config.publicUrl;
});
afterAll(() => b?.close());

const hop = (url: string, init: RequestInit = {}) => fetch(url, { redirect: 'manual', ...init });
const cookieOf = (res: Response) =>
  res.headers
    .getSetCookie()
    .find((c) => c.startsWith('mb_session='))
    ?.split(';')[0];

describe('the portfolio page', () => {
  it('signs in through the link the card mints, shows a refused invoice, and Retry from the page invoices it', async () => {
    const { tenant, link: url, fix } = await refusedInvoice(b);
    expect((await hop(`${appUrl}/app/portfolio`)).status).toBe(401);

    const { answer: signedIn } = await confirmLink(url);
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('location')).toBe('/app/portfolio');
    const cookie = cookieOf(signedIn)!;
    expect(signedIn.headers.getSetCookie().find((c) => c.startsWith('mb_session='))).toMatch(/HttpOnly/i);
    expect((await hop(url)).status).toBe(403);

    const page = await (await hop(`${appUrl}/app/portfolio`, { headers: { cookie } })).text();
    expect(page).toContain('Needs attention');
    expect(page).toMatch(/<tr data-kind="invoice_failed">.*Discovery.*Invalid Reference Id/s);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
    const action = /action="(\/app\/milestones\/[^"]+\/retry)"/.exec(page)![1]!;

    await fix();
    const post = (body: string, headers: Record<string, string> = {}) =>
      hop(`${appUrl}${action}`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin: appUrl, ...headers },
        body,
      });
    // Without the form's token, or from another site, nothing happens.
    expect((await post('_csrf=forged')).status).toBe(403);
    expect((await post(`_csrf=${encodeURIComponent(csrf)}`, { origin: 'https://evil.example' })).status).toBe(
      403,
    );
    expect((await tenant.pushesOf())[0]!.push.status).toBe('failed');

    const retried = await post(`_csrf=${encodeURIComponent(csrf)}`);
    expect(retried.status).toBe(303);
    const [created] = await tenant.settled(1);
    expect(created!.push.status).toBe('created');
    expect(b.qbo.invoices(tenant.realmId).map((i) => i.DocNumber)).toEqual([created!.push.docNumber]);
    const after = await (await hop(`${appUrl}/app/portfolio`, { headers: { cookie } })).text();
    expect(after).not.toContain('data-kind="invoice_failed"');
  }, 60_000);
});
