import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HUNDRED_PERCENT, parsePercent } from '../../src/domain/percent.ts';
import { buildSchedule, scheduledTotal } from '../../src/domain/schedule.ts';
import { BUILT_IN_TEMPLATES, specsFromTemplate, type Template } from '../../src/domain/templates.ts';
import { termDays } from '../../src/domain/terms.ts';
import { currencyArb } from './helpers.ts';

const byKey = (key: string): Template => BUILT_IN_TEMPLATES.find((t) => t.key === key)!;
const percents = (t: Template) => t.milestones.map((m) => m.percent / 10_000);
const USD_100K = { contractValue: 10_000_000, currency: 'USD', retainagePercent: 0 };

describe('built-in templates', () => {
  it('are software, construction, consulting and creative', () => {
    expect(BUILT_IN_TEMPLATES.map((t) => t.key)).toEqual([
      'software',
      'construction',
      'consulting',
      'creative',
    ]);
  });

  it('encode the documented splits', () => {
    expect(percents(byKey('software'))).toEqual([25, 25, 35, 15]);
    expect(percents(byKey('construction'))).toEqual([10, 15, 20, 20, 25, 10]);
    expect(percents(byKey('consulting'))).toEqual([30, 25, 30, 15]);
    expect(percents(byKey('creative'))).toEqual([20, 25, 25, 20, 10]);
    expect(byKey('software').milestones.map((m) => m.name)).toEqual([
      'Discovery',
      'Design',
      'Build',
      'Launch',
    ]);
  });

  it('software, consulting and creative are front-loaded: first 20–30 %, last 10–15 %', () => {
    for (const key of ['software', 'consulting', 'creative']) {
      const ms = byKey(key).milestones;
      expect(ms[0]!.percent, key).toBeGreaterThanOrEqual(parsePercent('20'));
      expect(ms[0]!.percent, key).toBeLessThanOrEqual(parsePercent('30'));
      expect(ms.at(-1)!.percent, key).toBeGreaterThanOrEqual(parsePercent('10'));
      expect(ms.at(-1)!.percent, key).toBeLessThanOrEqual(parsePercent('15'));
    }
  });

  for (const template of BUILT_IN_TEMPLATES) {
    describe(template.key, () => {
      it('sums to exactly 100 %', () => {
        expect(template.milestones.reduce((s, m) => s + m.percent, 0)).toBe(HUNDRED_PERCENT);
      });

      it('has a deliverable, acceptance criteria and rising dates for every milestone', () => {
        expect(template.name.length).toBeGreaterThan(0);
        expect(template.description.length).toBeGreaterThan(0);
        expect(() => termDays(template.paymentTerms)).not.toThrow();
        let last = 0;
        for (const m of template.milestones) {
          expect(m.name.trim(), template.key).not.toBe('');
          expect(m.deliverable.trim(), m.name).not.toBe('');
          expect(m.acceptanceCriteria.trim(), m.name).not.toBe('');
          expect(m.percent, m.name).toBeGreaterThan(0);
          expect(m.offsetDays, m.name).toBeGreaterThan(last);
          last = m.offsetDays;
        }
      });

      it('turns USD 100,000.00 into milestones that sum exactly', () => {
        const ms = buildSchedule(USD_100K, specsFromTemplate(template, '2026-01-01', 0));
        expect(ms).toHaveLength(template.milestones.length);
        expect(scheduledTotal(ms)).toBe(10_000_000);
        expect(ms.reduce((s, m) => s + m.amount, 0)).toBe(10_000_000);
        ms.forEach((m, i) => {
          expect(m.amount).toBe(template.milestones[i]!.percent * 10);
          expect(m.status).toBe('planned');
        });
        expect(new Set(ms.map((m) => m.key)).size).toBe(ms.length);
      });

      it('sums exactly for any contract value and currency', () => {
        fc.assert(
          fc.property(
            fc.integer({ min: 10, max: 1_000_000_000_000 }),
            currencyArb,
            (contractValue, currency) => {
              const ms = buildSchedule(
                { contractValue, currency, retainagePercent: 0 },
                specsFromTemplate(template, '2026-01-01', 0),
              );
              expect(scheduledTotal(ms)).toBe(contractValue);
            },
          ),
          { numRuns: 50 },
        );
      });
    });
  }
});

describe('specsFromTemplate', () => {
  it('plans each milestone its offset after the start, as percentage specs', () => {
    const specs = specsFromTemplate(byKey('software'), '2026-01-01', 0);
    expect(specs.map((s) => [s.name, s.plannedDate, s.amount])).toEqual([
      ['Discovery', '2026-01-15', { percent: 250_000 }],
      ['Design', '2026-02-12', { percent: 250_000 }],
      ['Build', '2026-04-23', { percent: 350_000 }],
      ['Launch', '2026-05-07', { percent: 150_000 }],
    ]);
    expect(specs[0]!.deliverable).toBe('Requirements document and project plan');
    expect(specs[0]!.acceptanceCriteria).toBe('Client signs off the requirements document');
  });

  it('prices the construction draws of USD 100,000.00 as 10/15/20/20/25/10', () => {
    const ms = buildSchedule(USD_100K, specsFromTemplate(byKey('construction'), '2026-03-02', 0));
    expect(ms.map((m) => [m.key, m.amount])).toEqual([
      ['permits-and-site-prep', 1_000_000],
      ['foundation', 1_500_000],
      ['framing-and-roofing', 2_000_000],
      ['mechanical-rough-in', 2_000_000],
      ['interior-finishing', 2_500_000],
      ['final-walkthrough', 1_000_000],
    ]);
  });

  it('adds a retainage release 30 days after the last milestone when retainage is held', () => {
    const retainage = parsePercent('10');
    const specs = specsFromTemplate(byKey('construction'), '2026-01-01', retainage);
    expect(specs).toHaveLength(7);
    const release = specs.at(-1)!;
    expect(release).toMatchObject({
      name: 'Retainage release',
      kind: 'retainage_release',
      amount: { fixed: 0 },
      plannedDate: '2026-08-15', // 196 + 30 days after 2026-01-01
    });
    const ms = buildSchedule({ ...USD_100K, retainagePercent: retainage }, specs);
    expect(scheduledTotal(ms)).toBe(10_000_000);
    expect(ms.at(-1)!.amount).toBe(1_000_000);
    expect(ms.at(-1)!.key).toBe('retainage-release');
  });

  it('adds no release without retainage', () => {
    for (const t of BUILT_IN_TEMPLATES) {
      expect(specsFromTemplate(t, '2026-01-01', 0).some((s) => s.kind === 'retainage_release')).toBe(false);
    }
  });
});
