import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertNoIssues, DomainError } from '../../src/domain/errors.ts';
import { HUNDRED_PERCENT, parsePercent, percentOf } from '../../src/domain/percent.ts';
import { withhold } from '../../src/domain/retainage.ts';
import {
  buildSchedule,
  type ContractTerms,
  countsTowardContract,
  fromSpecs,
  type Milestone,
  price,
  scheduledTotal,
  slugify,
  validate,
} from '../../src/domain/schedule.ts';
import { domainError, spec, splitArb } from './helpers.ts';

const USD_100K: ContractTerms = { contractValue: 10_000_000, currency: 'USD', retainagePercent: 0 };
const pct = parsePercent;

describe('assertNoIssues / DomainError', () => {
  it('returns quietly without issues, uses the lone message, or joins several under a summary', () => {
    expect(() => assertNoIssues('x', 'summary', [])).not.toThrow();
    const one = domainError(() =>
      assertNoIssues('bad', 'summary', [{ path: 'a', code: 'c', message: 'a is bad' }]),
    );
    expect(one).toBeInstanceOf(Error);
    expect(one.name).toBe('DomainError');
    expect(one.code).toBe('bad');
    expect(one.message).toBe('a is bad');
    const two = domainError(() =>
      assertNoIssues('bad', 'two problems', [
        { path: 'a', code: 'c', message: 'a is bad' },
        { path: 'b', code: 'd', message: 'b is worse' },
      ]),
    );
    expect(two.message).toBe('two problems: a is bad; b is worse');
    expect(two.issues.map((i) => i.path)).toEqual(['a', 'b']);
    expect(new DomainError('c', 'm').issues).toEqual([]);
  });
});

describe('slugify', () => {
  it('makes readable ASCII keys', () => {
    expect(slugify('Discovery')).toBe('discovery');
    expect(slugify('Permits & site prep')).toBe('permits-and-site-prep');
    expect(slugify('  Phase 2: Build / QA!  ')).toBe('phase-2-build-qa');
    expect(slugify('Café Déjà vu')).toBe('cafe-deja-vu');
    expect(slugify('')).toBe('milestone');
    expect(slugify('!!!')).toBe('milestone');
    expect(slugify('x'.repeat(80))).toHaveLength(60);
  });

  it('always yields a non-empty key of lower-case letters, digits and inner dashes', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 100 }), (name) => {
        const slug = slugify(name);
        expect(slug.length).toBeGreaterThan(0);
        expect(slug.length).toBeLessThanOrEqual(60);
        expect(slug).toMatch(/^[a-z0-9-]+$/);
        expect(slug.startsWith('-')).toBe(false);
      }),
    );
  });
});

describe('fromSpecs', () => {
  it('creates planned, unsaved milestones with trimmed text and defaults', () => {
    const [m] = fromSpecs([
      {
        name: '  Kickoff ',
        deliverable: ' Plan ',
        acceptanceCriteria: ' Signed ',
        amount: { fixed: 500 },
        plannedDate: '2026-02-01',
      },
    ]);
    expect(m).toEqual({
      id: null,
      key: 'kickoff',
      name: 'Kickoff',
      deliverable: 'Plan',
      acceptanceCriteria: 'Signed',
      percent: null,
      amount: 500,
      plannedDate: '2026-02-01',
      triggerStage: null,
      paymentTerms: null,
      kind: 'standard',
      status: 'planned',
      splitFromId: null,
    } satisfies Milestone);
  });

  it('keeps percentages for pricing and optional fields as given', () => {
    const [m] = fromSpecs([
      spec('Build', { percent: 350_000 }, { triggerStage: 'closedwon', paymentTerms: { customDays: 45 } }),
    ]);
    expect(m!.percent).toBe(350_000);
    expect(m!.amount).toBe(0);
    expect(m!.triggerStage).toBe('closedwon');
    expect(m!.paymentTerms).toEqual({ customDays: 45 });
  });

  it('derives unique keys from names, avoiding keys already taken, and keeps explicit keys', () => {
    const ms = fromSpecs(
      [
        spec('Design', { fixed: 1 }),
        spec('Design', { fixed: 1 }),
        spec('Build', { fixed: 1 }),
        spec('Custom', { fixed: 1 }, { key: 'my-key' }),
      ],
      ['design', 'build', 'build-2'],
    );
    expect(ms.map((m) => m.key)).toEqual(['design-2', 'design-3', 'build-3', 'my-key']);
  });
});

describe('buildSchedule', () => {
  it('prices fixed and percentage milestones together', () => {
    const ms = buildSchedule(USD_100K, [
      spec('Deposit', { fixed: 2_000_000 }),
      spec('Build', { percent: pct('50') }),
      spec('Launch', { percent: pct('30') }),
    ]);
    expect(ms.map((m) => [m.key, m.amount, m.percent])).toEqual([
      ['deposit', 2_000_000, null],
      ['build', 5_000_000, 500_000],
      ['launch', 3_000_000, 300_000],
    ]);
    expect(scheduledTotal(ms)).toBe(10_000_000);
  });

  it('allows a schedule below the contract value', () => {
    const ms = buildSchedule(USD_100K, [spec('Only', { fixed: 100 })]);
    expect(scheduledTotal(ms)).toBe(100);
  });

  it('refuses percentages over 100 %: "milestones total 101 %"', () => {
    const error = domainError(() =>
      buildSchedule(USD_100K, [spec('A', { percent: pct('50') }), spec('B', { percent: pct('51') })]),
    );
    expect(error.code).toBe('schedule_invalid');
    expect(error.message).toBe(
      'the schedule is invalid: milestones total 101 %; amounts exceed the contract by USD 1,000.00',
    );
    expect(error.issues.map((i) => [i.path, i.code])).toEqual([
      ['milestones', 'over_100_percent'],
      ['milestones', 'exceeds_contract'],
    ]);
    expect(error.issues[0]!.message).toBe('milestones total 101 %');
    expect(() =>
      buildSchedule(USD_100K, [
        spec('A', { percent: pct('33.3334') }),
        spec('B', { percent: pct('66.6667') }),
      ]),
    ).toThrow('milestones total 100.0001 %');
  });

  it('refuses amounts above the contract: "amounts exceed the contract by USD 150.00"', () => {
    const error = domainError(() =>
      buildSchedule(USD_100K, [spec('A', { fixed: 5_000_000 }), spec('B', { fixed: 5_015_000 })]),
    );
    expect(error.code).toBe('schedule_invalid');
    expect(error.message).toBe('amounts exceed the contract by USD 150.00');
    expect(error.issues).toEqual([
      { path: 'milestones', code: 'exceeds_contract', message: 'amounts exceed the contract by USD 150.00' },
    ]);
    expect(() =>
      buildSchedule({ contractValue: 1_000, currency: 'JPY', retainagePercent: 0 }, [
        spec('A', { fixed: 1_234 }),
      ]),
    ).toThrow('amounts exceed the contract by JPY 234');
    expect(() =>
      buildSchedule({ contractValue: 1_000, currency: 'KWD', retainagePercent: 0 }, [
        spec('A', { fixed: 2_500 }),
      ]),
    ).toThrow('amounts exceed the contract by KWD 1.500');
  });

  it('refuses duplicate keys, naming both milestones', () => {
    const error = domainError(() =>
      buildSchedule(USD_100K, [
        spec('Design', { fixed: 100 }, { key: 'design' }),
        spec('Build', { fixed: 100 }),
        spec('Redesign', { fixed: 100 }, { key: 'design' }),
      ]),
    );
    expect(error.code).toBe('schedule_invalid');
    expect(error.message).toBe('milestones[2].key "design" is already used by milestones[0]');
    expect(error.issues[0]).toMatchObject({ path: 'milestones[2].key', code: 'duplicate' });
  });

  it('refuses retainage without a release milestone, and a release without retainage', () => {
    const noRelease = domainError(() =>
      buildSchedule({ ...USD_100K, retainagePercent: pct('10') }, [
        spec('Build', { percent: HUNDRED_PERCENT }),
      ]),
    );
    expect(noRelease.code).toBe('schedule_invalid');
    expect(noRelease.message).toBe('retainage of 10 % needs a retainage release milestone to pay it out');
    expect(noRelease.issues[0]).toMatchObject({ path: 'milestones', code: 'no_release' });

    const noRetainage = domainError(() =>
      buildSchedule(USD_100K, [
        spec('Build', { percent: HUNDRED_PERCENT }),
        spec('Release', { fixed: 0 }, { kind: 'retainage_release' }),
      ]),
    );
    expect(noRetainage.message).toBe(
      'a retainage release milestone needs a retainage percentage on the schedule',
    );
    expect(noRetainage.issues[0]).toMatchObject({ path: 'milestones[1].kind', code: 'no_retainage' });

    const twoReleases = domainError(() =>
      buildSchedule({ ...USD_100K, retainagePercent: pct('5') }, [
        spec('Build', { percent: HUNDRED_PERCENT }),
        spec('Release', { fixed: 0 }, { kind: 'retainage_release' }),
        spec('Release again', { fixed: 0 }, { kind: 'retainage_release' }),
      ]),
    );
    expect(twoReleases.message).toBe('a schedule has at most one retainage release milestone');
    expect(twoReleases.issues[0]).toMatchObject({ path: 'milestones[2].kind', code: 'duplicate' });
  });

  it('requires a positive contract, at least one milestone, the three texts and positive amounts', () => {
    expect(() => buildSchedule(USD_100K, [])).toThrow('a schedule needs at least one milestone');
    const zero = domainError(() =>
      buildSchedule({ ...USD_100K, contractValue: 0 }, [spec('A', { fixed: 1 })]),
    );
    expect(zero.message).toBe('the contract value must be greater than zero');
    expect(zero.issues[0]!.path).toBe('contractValue');
    const blank = domainError(() =>
      buildSchedule(USD_100K, [
        {
          name: 'Kickoff',
          deliverable: '   ',
          acceptanceCriteria: '',
          amount: { fixed: 0 },
          plannedDate: '2026-01-01',
        },
      ]),
    );
    expect(blank.message).toBe(
      'the schedule is invalid: milestones[0].deliverable is required; milestones[0].acceptanceCriteria is required; milestones[0] "Kickoff" must have an amount greater than zero',
    );
    expect(blank.issues.map((i) => i.code)).toEqual(['required', 'required', 'not_positive']);
    expect(() => buildSchedule(USD_100K, [spec('A', { fixed: -100 })])).toThrow(
      'must have an amount greater than zero',
    );
  });

  it('estimates the retainage release from what every other milestone holds back', () => {
    const terms = { ...USD_100K, retainagePercent: pct('10') };
    const ms = buildSchedule(terms, [
      spec('Foundation', { percent: pct('33.3333') }),
      spec('Framing', { percent: pct('33.3333') }),
      spec('Finish', { percent: pct('33.3334') }),
      spec('Retainage release', { fixed: 0 }, { kind: 'retainage_release' }),
    ]);
    expect(ms.map((m) => m.amount)).toEqual([3_333_330, 3_333_330, 3_333_340, 1_000_000]);
    expect(ms[3]!.percent).toBeNull();
    expect(countsTowardContract(ms[3]!)).toBe(false);
    expect(scheduledTotal(ms)).toBe(10_000_000);
    // JPY 100 in thirds with 10 % retainage: each invoice holds back 3, so the release is 9, not 10
    const yen = buildSchedule({ contractValue: 100, currency: 'JPY', retainagePercent: pct('10') }, [
      spec('Foundation', { percent: pct('33.3333') }),
      spec('Framing', { percent: pct('33.3333') }),
      spec('Finish', { percent: pct('33.3334') }),
      spec('Retainage release', { fixed: 0 }, { kind: 'retainage_release' }),
    ]);
    expect(yen.map((m) => m.amount)).toEqual([33, 33, 34, 9]);
  });

  it('for any split and retainage, the release pays out exactly what the invoices withhold', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 10_000_000, max: 1_000_000_000_000 }),
        splitArb,
        fc.integer({ min: 1, max: 200_000 }),
        (contractValue, weights, retainagePercent) => {
          const terms = { contractValue, currency: 'USD', retainagePercent };
          const ms = buildSchedule(terms, [
            ...weights.map((percent, i) => spec(`Draw ${i}`, { percent })),
            spec('Release', { fixed: 0 }, { kind: 'retainage_release' }),
          ]);
          const draws = ms.filter((m) => m.kind === 'standard');
          const release = ms.find((m) => m.kind === 'retainage_release')!;
          expect(scheduledTotal(ms)).toBe(contractValue);
          expect(release.amount).toBe(
            draws.reduce((s, m) => s + withhold(m.amount, retainagePercent).retained, 0),
          );
          expect(release.amount).toBeGreaterThanOrEqual(0);
        },
      ),
    );
  });
});

describe('price', () => {
  it('re-prices only the milestones asked for and never a locked release', () => {
    const terms = { ...USD_100K, retainagePercent: pct('10') };
    const ms = buildSchedule(terms, [
      spec('A', { percent: pct('50') }),
      spec('B', { percent: pct('50') }),
      spec('Release', { fixed: 0 }, { kind: 'retainage_release' }),
    ]);
    const bigger = { ...terms, contractValue: 20_000_000 };
    price(bigger, ms, new Set([ms[1]!]));
    expect(ms.map((m) => m.amount)).toEqual([5_000_000, 10_000_000, 1_500_000]);
    ms[2]!.status = 'accepted';
    price(bigger, ms, new Set(ms));
    expect(ms.map((m) => m.amount)).toEqual([10_000_000, 10_000_000, 1_500_000]);
  });

  it('ignores cancelled milestones when estimating the release and totals', () => {
    const terms = { ...USD_100K, retainagePercent: pct('10') };
    const ms = buildSchedule(terms, [
      spec('A', { percent: pct('60') }),
      spec('B', { percent: pct('40') }),
      spec('Release', { fixed: 0 }, { kind: 'retainage_release' }),
    ]);
    ms[1]!.status = 'cancelled';
    price(terms, ms, new Set());
    expect(ms[2]!.amount).toBe(600_000);
    expect(scheduledTotal(ms)).toBe(6_000_000);
    expect(percentOf(ms[0]!.amount, pct('10'))).toBe(600_000);
  });
});

describe('validate', () => {
  it('skips cancelled milestones and lets split portions share their key', () => {
    const ms = buildSchedule(USD_100K, [
      spec('A', { percent: pct('60') }),
      spec('B', { percent: pct('40') }),
    ]);
    const cancelled: Milestone = { ...ms[0]!, status: 'cancelled', name: '', amount: 99_999_999 };
    const portion: Milestone = {
      ...ms[1]!,
      id: 'ms_3',
      splitFromId: 'ms_2',
      amount: 1_000_000,
      percent: null,
    };
    const first: Milestone = { ...ms[1]!, id: 'ms_2', amount: 3_000_000, percent: null, status: 'accepted' };
    expect(() => validate(USD_100K, [ms[0]!, first, portion, cancelled])).not.toThrow();
    expect(scheduledTotal([ms[0]!, first, portion, cancelled])).toBe(10_000_000);
    // the same key on an unrelated milestone is a duplicate
    const twin: Milestone = { ...portion, splitFromId: null };
    expect(() => validate(USD_100K, [ms[0]!, first, twin])).toThrow(
      'milestones[2].key "b" is already used by milestones[1]',
    );
  });
});
