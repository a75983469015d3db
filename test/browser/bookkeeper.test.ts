import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCall, portfolioLink } from '../app/refused-invoice.ts';
import { seededPortfolio } from '../app/seeded-portfolio.ts';
import { type Billing, startBilling } from '../support/billing.ts';

const axeSource: string = createRequire(import.meta.url)('axe-core').source;
const SHOTS = join(import.meta.dirname, '../../test-results/screenshots');

let b: Billing;
let browser: Browser;
let seeded: Awaited<ReturnType<typeof seededPortfolio>>;
beforeAll(async () => {
  b = await startBilling({ listen: true });
  seeded = await seededPortfolio(b);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking'],
  });
}, 90_000);
afterAll(async () => {
  await browser?.close();
  await b?.close();
});

/** The page's CSP refuses every script, so axe is let in by the browser (bypassCSP), not by the page. */
async function seriousViolations(page: Page) {
  await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: { run(): Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }> };
      }
    ).axe;
    return (await axe.run()).violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

async function signedIn() {
  const context = await browser.newContext({ bypassCSP: true, acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(await portfolioLink(b, seeded.tenant.portal));
  await Promise.all([
    page.waitForURL(/\/app\/portfolio$/),
    page.getByRole('button', { name: /Open the portfolio/ }).click(),
  ]);
  return { context, page };
}

describe('the bookkeeper pages in a real browser', () => {
  it('shows the forecast with its cluster and gaps, and the deals behind a bar on hover and click', async () => {
    const { context, page } = await signedIn();
    await page.getByRole('link', { name: 'Cash-flow forecast' }).click();
    await page.waitForURL(/\/app\/forecast/);
    const usd = page.getByRole('group', { name: 'Cash by week in USD' });
    const cluster = usd.locator(`a[data-week="${seeded.week(5)}"]`);
    await expect(cluster.getAttribute('data-mark')).resolves.toBe('cluster');
    await expect(usd.locator(`a[data-week="${seeded.week(3)}"]`).getAttribute('data-mark')).resolves.toBe(
      'gap',
    );
    expect(await usd.locator('a[data-mark="cluster"]').count()).toBeGreaterThanOrEqual(1);
    // Hover tells the week's amount and mark (the bar's title); a click lists the deals behind it.
    await expect(cluster.locator('title').textContent()).resolves.toBe(
      `Week of ${seeded.week(5)}: USD 60,000.00 expected (cluster); select for its deals`,
    );
    await cluster.hover();
    await Promise.all([page.waitForURL(/week=/), cluster.click()]);
    expect(new URL(page.url()).hash).toBe('#week-deals');
    const deals = page.getByRole('region', { name: `Deals in the week of ${seeded.week(5)} (USD)` });
    await expect(deals.locator('tbody tr').allTextContents()).resolves.toEqual([
      'Acme Widgets – Factory ExpansionUSD 60,000.00',
    ]);
    await expect(page.locator(`tr[data-week="${seeded.week(5)}"]`).textContent()).resolves.toContain(
      'Cluster',
    );
    await page.screenshot({ path: join(SHOTS, 'forecast.png'), fullPage: true });
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  }, 60_000);

  it('ages receivables into the buckets the seeded due dates fall in, and the CSV export adds up to the totals', async () => {
    const { context, page } = await signedIn();
    await page.getByRole('link', { name: 'Receivables aging' }).click();
    await page.waitForURL(/\/app\/aging/);
    const table = page.locator('table[data-currency="USD"]');
    const acme = table.locator('tbody tr', { hasText: 'Acme Widgets' });
    const cell = (row: typeof acme, bucket: string) =>
      row.locator(`td[data-bucket="${bucket}"]`).textContent();
    await expect(cell(acme, 'current')).resolves.toBe('6,000.00');
    await expect(cell(acme, 'days_1_30')).resolves.toBe('6,000.00');
    await expect(cell(acme, 'days_31_60')).resolves.toBe('4,000.00');
    await expect(cell(acme, 'days_61_90')).resolves.toBe('0.00');
    await expect(cell(acme, 'days_over_90')).resolves.toBe('6,000.00');
    const totals = table.locator('tfoot tr');
    await expect(cell(totals, 'days_61_90')).resolves.toBe('1,500.00');
    await expect(cell(totals, 'total')).resolves.toBe('23,500.00');
    await page.screenshot({ path: join(SHOTS, 'aging.png'), fullPage: true });
    expect(await seriousViolations(page)).toEqual([]);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download the aging as CSV' }).click(),
    ]);
    const rows = parse(readFileSync((await download.path())!), { columns: true }) as Record<string, string>[];
    // "Acme Widgets, Inc." holds a comma: only correct quoting keeps its row's columns in place.
    expect(rows.map((r) => r.Customer).sort()).toEqual(['Acme Widgets, Inc.', expect.any(String)]);
    const sum = (column: string) =>
      rows.reduce((cents, r) => cents + Math.round(Number(r[column]) * 100), 0) / 100;
    expect(['Current', '1–30 days', '31–60 days', '61–90 days', 'Over 90 days', 'Total'].map(sum)).toEqual([
      6000, 6000, 4000, 1500, 6000, 23500,
    ]);
    expect(rows.every((r) => /^\d+\.\d{2}$/.test(r.Total!))).toBe(true);
    await context.close();
  }, 60_000);

  it("opens a deal's schedule read-only from the portfolio, with its invoices linked to QuickBooks", async () => {
    const { context, page } = await signedIn();
    const overdue = page.locator('tr[data-kind="overdue"]', { hasText: 'Annual Maintenance' }).first();
    await overdue.getByRole('link', { name: 'Acme Widgets – Annual Maintenance' }).click();
    await page.waitForURL(/\/app\/deals\//);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
      'Acme Widgets – Annual Maintenance',
    );
    const invoice = page.getByRole('link', { name: /MB-\d+ \(opens QuickBooks\)/ }).first();
    await expect(invoice.getAttribute('href')).resolves.toMatch(/\/app\/invoice\?txnId=\d+/);
    await expect(
      page.getByRole('link', { name: /Open the deal in HubSpot/ }).getAttribute('href'),
    ).resolves.toBe(
      `https://app.hubspot.com/contacts/${seeded.tenant.portal}/record/0-3/${seeded.maintenance.id}`,
    );
    // Read-only: nothing to submit but signing out.
    expect(await page.locator('main form, main button').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'deal-schedule.png'), fullPage: true });
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  }, 60_000);

  it("signs a bookkeeper in read-only through a share link, and revoking it ends the bookkeeper's session", async () => {
    const created = await adminCall(b, seeded.tenant.portal, 'POST', '/settings/share-links', {
      label: 'Dana (bookkeeper)',
      days: 7,
    });
    expect(created.status).toBe(201);
    const link = (await created.json()) as { id: string; url: string };
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await page.goto(link.url);
    await expect(page.locator('body').textContent()).resolves.toContain(
      'shared its milestone billing portfolio',
    );
    await Promise.all([page.waitForURL(/\/app\/portfolio$/), page.getByRole('button').click()]);
    await expect(page.getByRole('note').textContent()).resolves.toContain('Shared read-only');
    expect(await page.getByRole('button', { name: /Retry/ }).count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'shared-read-only.png'), fullPage: true });
    expect(await seriousViolations(page)).toEqual([]);

    expect(
      (await adminCall(b, seeded.tenant.portal, 'DELETE', `/settings/share-links/${link.id}`)).status,
    ).toBe(200);
    const refused = await page.reload();
    expect(refused!.status()).toBe(401);
    await expect(page.locator('body').textContent()).resolves.toContain('revoked');
    await page.screenshot({ path: join(SHOTS, 'shared-revoked.png'), fullPage: true });
    // The link itself no longer signs anyone in.
    const again = await page.goto(link.url);
    expect(again!.status()).toBe(403);
    await context.close();
  }, 60_000);
});
