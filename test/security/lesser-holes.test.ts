import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/domain/dates.ts';
import { VERSIONS_KEPT } from '../../src/schedules/service.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { portfolioSession } from '../support/links.ts';

/** CSV formulas in any locale, schedule versions, a tenant's request rate, database words. */

let t: TestApp;
const TODAY = '2026-11-20';
beforeAll(async () => {
  t = await startTestApp({ API_REQUESTS_PER_MINUTE: '120' }, { clock: fixedClock(`${TODAY}T12:00:00Z`) });
});
afterAll(() => t?.close());

const PAYLOADS = [
  `Name;=cmd|' /C calc'!A0`,
  `Name,=HYPERLINK("http://evil.example","x")`,
  `Name; +1+cmd|' /C calc'!A0`,
  `=SUM(1,2)`,
  `@SUM(1)`,
  `-2+3`,
  `Name\t=1+1`,
];

describe('CSV exports', () => {
  it('quote every field and neutralise a formula after ; or , as well as at the start', async () => {
    const tenant = await t.tenant();
    const milestones = PAYLOADS.map((name, i) => ({
      name,
      key: `m${i}`,
      deliverable: 'D',
      acceptanceCriteria: 'A',
      amount: '1000.00',
      // Planned before today and not accepted: each shows up under "needs attention".
      plannedDate: '2026-11-01',
    }));
    const put = await tenant.put('/deals/9900001/schedule', {
      contractValue: { amount: `${PAYLOADS.length * 1000}.00`, currency: 'USD' },
      dealName: PAYLOADS[0],
      milestones,
    });
    expect(put.status, put.text).toBe(200);
    const { cookie } = await portfolioSession(t, tenant.tenant.id);
    const csv = (await t.http.get('/app/export/attention.csv').set('Cookie', cookie!)).text;
    // Read as a spreadsheet whose list separator is ";" and as one whose separator is ","; also as
    // one that ignores quotes and splits on either.
    const cells = [
      ...parse(csv, { delimiter: ';', relax_quotes: true, relax_column_count: true }).flat(),
      ...parse(csv, { delimiter: ',', relax_column_count: true }).flat(),
      ...csv.split(/[;,\t\n]/).map((c) => c.replace(/^\s*"?/, '')),
    ] as string[];
    const formulas = cells.filter((c) => /^\s*[=+@]/.test(c) || /^\s*-\d.*[+*/]/.test(c));
    expect(formulas).toEqual([]);
    for (const line of csv.trim().split('\n')) expect(line).toMatch(/^".*"\r?$/);
    // The names are all there, only inert.
    expect(csv).toContain(`"Name;'=cmd|' /C calc'!A0"`);
  });
});

describe('schedule versions', () => {
  it(`keep the latest ${VERSIONS_KEPT} of a schedule, whatever a loop of saves does`, async () => {
    const tenant = await t.tenant();
    const save = (i: number) =>
      tenant.put('/deals/9900002/schedule', {
        contractValue: { amount: '1000.00', currency: 'USD' },
        milestones: [
          {
            name: `Version ${i}`,
            key: 'a',
            deliverable: 'D'.repeat(2000),
            acceptanceCriteria: 'A',
            percent: '100',
            plannedDate: '2027-01-01',
          },
        ],
      });
    for (let i = 1; i <= VERSIONS_KEPT + 5; i++) expect((await save(i)).status).toBe(200);
    const { body } = await tenant.get('/deals/9900002/schedule/versions');
    expect(body.versions).toHaveLength(VERSIONS_KEPT);
    expect(body.versions[0].version).toBe(VERSIONS_KEPT + 5);
    const pruned = await tenant.get('/deals/9900002/schedule/versions/1');
    expect(pruned.status).toBe(404);
    expect(pruned.body.detail).toBe(
      `schedule version 1 of deal 9900002 is no longer kept (the latest ${VERSIONS_KEPT} are)`,
    );
  });
});

describe('problems', () => {
  it("never carry the database's words: a version out of the column's range is a 400 naming the field", async () => {
    const tenant = await t.tenant();
    const put = await tenant.put('/deals/9900003/schedule', {
      contractValue: { amount: '1000.00', currency: 'USD' },
      milestones: [
        {
          name: 'A',
          key: 'a',
          deliverable: 'D',
          acceptanceCriteria: 'A',
          percent: '100',
          plannedDate: '2027-01-01',
        },
      ],
    });
    expect(put.status).toBe(200);
    for (const res of [
      await tenant.get('/deals/9900003/schedule/versions/2147483648'),
      await tenant.post('/deals/9900003/schedule/change-orders', { baseVersion: 2_147_483_648, reason: 'x' }),
    ]) {
      expect([400, 422]).toContain(res.status);
      expect(res.text).not.toMatch(/out of range for type|integer|pg_|relation|column/i);
      expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(
        expect.arrayContaining([expect.stringMatching(/^(version|baseVersion)$/)]),
      );
      expect(res.body.detail).toContain('is no version a schedule can have');
    }
  });
});

describe("a tenant's requests", () => {
  it('are limited per minute: a loop gets 429 with Retry-After, and other tenants are served', async () => {
    const loud = await t.tenant();
    const quiet = await t.tenant();
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<typeof loud.get>> | undefined;
    for (let i = 0; i < 130 && !refused; i++) {
      const res = await loud.get('/templates');
      statuses.push(res.status);
      if (res.status === 429) refused = res;
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(120);
    expect(refused!.headers['retry-after']).toMatch(/^\d+$/);
    expect(Number(refused!.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(refused!.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(refused!.body.detail).toContain(`HubSpot portal ${loud.portalId} made 120 requests`);
    expect((await quiet.get('/templates')).status).toBe(200);
  });
});
