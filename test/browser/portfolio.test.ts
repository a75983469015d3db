import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusedInvoice } from '../app/refused-invoice.ts';
import { type Billing, startBilling } from '../support/billing.ts';

const axeSource: string = createRequire(import.meta.url)('axe-core').source;
const SHOTS = join(import.meta.dirname, '../../test-results/screenshots');

let b: Billing;
let browser: Browser;
beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  b = await startBilling({ listen: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking'],
  });
});
afterAll(async () => {
  await browser?.close();
  await b?.close();
});

describe('the portfolio in a real browser', () => {
  it('signs in through a minted link, shows the refused invoice, and Retry from the page sends it to QuickBooks', async () => {
    const { tenant, link: url, fix } = await refusedInvoice(b);

    // The page's CSP refuses every script, so axe is let in by the browser, not by the page.
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await page.goto(url);
    // The link first names the portal it opens; nothing happens until the person continues.
    await expect(page.getByRole('heading').textContent()).resolves.toBe('Open the billing portfolio');
    await expect(page.locator('body').textContent()).resolves.toContain(`HubSpot portal ${tenant.portal}`);
    await page.screenshot({ path: join(SHOTS, 'sign-in-confirmation.png'), fullPage: true });
    await Promise.all([page.waitForURL(/\/app\/portfolio$/), page.getByRole('button').click()]);
    const row = page.locator('tr[data-kind="invoice_failed"]');
    await expect(row.textContent()).resolves.toContain('Invalid Reference Id');
    await page.screenshot({ path: join(SHOTS, 'portfolio-needs-attention.png'), fullPage: true });

    // Keyboard and labels: no serious accessibility violation on the page.
    await page.addScriptTag({ content: axeSource });
    const violations = await page.evaluate(async () => {
      const axe = (
        globalThis as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string }[] }> } }
      ).axe;
      return (await axe.run()).violations.map((v) => ({ id: v.id, impact: v.impact }));
    });
    expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);

    await fix();
    // The Retry button is reached and pressed from the keyboard, as a person without a mouse would.
    await row.getByRole('button', { name: /Retry the invoice of Discovery/ }).focus();
    await Promise.all([page.waitForURL(/\/app\/portfolio\?done=/), page.keyboard.press('Enter')]);
    await expect(page.getByRole('status').textContent()).resolves.toContain(
      'is on its way to QuickBooks again',
    );
    const [pushed] = await tenant.settled(1);
    expect(pushed!.push.status).toBe('created');
    await page.reload();
    expect(await page.locator('tr[data-kind="invoice_failed"]').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'portfolio-after-retry.png'), fullPage: true });
    expect(b.qbo.invoices(tenant.realmId)).toHaveLength(1);
    await context.close();
  }, 60_000);
});
