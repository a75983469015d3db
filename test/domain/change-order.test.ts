import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyChangeOrder, type ChangeOrder } from '../../src/domain/change-order.ts';
import { DomainError } from '../../src/domain/errors.ts';
import { isOpen, MILESTONE_STATUSES, type MilestoneStatus } from '../../src/domain/lifecycle.ts';
import { parsePercent } from '../../src/domain/percent.ts';
import { withhold } from '../../src/domain/retainage.ts';
import {
  buildSchedule,
  type ContractTerms,
  type Milestone,
  scheduledTotal,
} from '../../src/domain/schedule.ts';
import { BUILT_IN_TEMPLATES, specsFromTemplate } from '../../src/domain/templates.ts';
import { domainError, spec, splitArb } from './helpers.ts';

const USD_100K: ContractTerms = { contractValue: 10_000_000, currency: 'USD', retainagePercent: 0 };
const LOCKED: MilestoneStatus[] = [
  'accepted',
  'invoicing',
  'invoiced',
  'invoice_failed',
  'partially_paid',
  'paid',
];
const order = (o: Partial<ChangeOrder>): ChangeOrder => ({ add: [], change: [], cancel: [], ...o });

/** After a contract change, open milestones keep their amounts but no longer claim a share of the new contract. */
const asFixed = (list: Milestone[]) =>
  list.map((m) => (isOpen(m.status) && m.kind === 'standard' ? { ...m, percent: null } : m));

/** The software template (25/25/35/15 of USD 100,000.00) with ids and the given statuses. */
function software(statuses: MilestoneStatus[] = []): Milestone[] {
  const template = BUILT_IN_TEMPLATES.find((t) => t.key === 'software')!;
  return buildSchedule(USD_100K, specsFromTemplate(template, '2026-01-01', 0)).map((m, i) => ({
    ...m,
    id: `ms_${i + 1}`,
    status: statuses[i] ?? 'planned',
  }));
}

describe('applyChangeOrder', () => {
  it('adds a milestone with its own amount and leaves accepted and invoiced milestones untouched', () => {
    const current = software(['accepted', 'invoiced']);
    const before = structuredClone(current);
    const { terms, milestones } = applyChangeOrder(
      USD_100K,
      current,
      order({
        contractValue: 12_000_000,
        add: [spec('Extra integration', { fixed: 2_000_000 }, { plannedDate: '2026-06-01' })],
      }),
    );
    expect(terms).toEqual({ ...USD_100K, contractValue: 12_000_000 });
    expect(milestones.slice(0, 4)).toEqual(asFixed(before));
    expect(milestones.slice(0, 2)).toEqual(before.slice(0, 2));
    expect(milestones[4]).toMatchObject({
      id: null,
      key: 'extra-integration',
      amount: 2_000_000,
      percent: null,
      status: 'planned',
      plannedDate: '2026-06-01',
    });
    expect(scheduledTotal(milestones)).toBe(12_000_000);
    // the input is not mutated
    expect(current).toEqual(before);
  });

  it('prices an added percentage milestone at the new contract value', () => {
    const current = buildSchedule(USD_100K, [spec('Build', { percent: parsePercent('80') })]).map((m) => ({
      ...m,
      id: 'ms_1',
      status: 'accepted' as const,
    }));
    const { milestones } = applyChangeOrder(
      USD_100K,
      current,
      order({ contractValue: 15_000_000, add: [spec('Phase 2', { percent: parsePercent('20') })] }),
    );
    expect(milestones.map((m) => [m.key, m.amount, m.status])).toEqual([
      ['build', 8_000_000, 'accepted'],
      ['phase-2', 3_000_000, 'planned'],
    ]);
  });

  it('gives added milestones keys that do not clash with existing ones', () => {
    const { milestones } = applyChangeOrder(
      { ...USD_100K, contractValue: 11_000_000 },
      software(),
      order({ add: [spec('Design', { fixed: 500_000 }), spec('Design', { fixed: 500_000 })] }),
    );
    expect(milestones.map((m) => m.key)).toEqual([
      'discovery',
      'design',
      'build',
      'launch',
      'design-2',
      'design-3',
    ]);
  });

  it('refuses to change or cancel a milestone that is no longer open: milestone_locked', () => {
    for (const status of LOCKED) {
      const current = software([status]);
      const change = domainError(() =>
        applyChangeOrder(USD_100K, current, order({ change: [{ id: 'ms_1', name: 'Renamed' }] })),
      );
      expect(change.code).toBe('milestone_locked');
      expect(change.issues).toEqual([
        {
          path: 'change[0]',
          code: 'milestone_locked',
          message: `change[0]: "Discovery" is ${status.replace('_', ' ')} and can no longer change`,
        },
      ]);
      const cancel = domainError(() => applyChangeOrder(USD_100K, current, order({ cancel: ['ms_1'] })));
      expect(cancel.code).toBe('milestone_locked');
      expect(cancel.message).toBe(
        `cancel[0]: "Discovery" is ${status.replace('_', ' ')} and can no longer change`,
      );
    }
    const amount = domainError(() =>
      applyChangeOrder(
        USD_100K,
        software(['invoiced']),
        order({ change: [{ id: 'ms_1', amount: { fixed: 1 } }] }),
      ),
    );
    expect(amount.message).toBe('change[0]: "Discovery" is invoiced and can no longer change');
  });

  it('reports every problem at once, with code milestone_locked when any target is locked', () => {
    const error = domainError(() =>
      applyChangeOrder(
        USD_100K,
        software(['accepted', 'invoiced']),
        order({
          change: [
            { id: 'nope', name: 'x' },
            { id: 'ms_1', name: 'y' },
          ],
          cancel: ['ms_2', 'gone'],
        }),
      ),
    );
    expect(error.code).toBe('milestone_locked');
    expect(error.message.startsWith('the change order cannot be applied: ')).toBe(true);
    expect(error.issues.map((i) => [i.path, i.code])).toEqual([
      ['change[0].id', 'not_found'],
      ['change[1]', 'milestone_locked'],
      ['cancel[0]', 'milestone_locked'],
      ['cancel[1]', 'not_found'],
    ]);
    const missing = domainError(() => applyChangeOrder(USD_100K, software(), order({ cancel: ['gone'] })));
    expect(missing.code).toBe('change_order_invalid');
    expect(missing.message).toBe('cancel[0]: no milestone gone');
  });

  it('a contract value change keeps agreed amounts; a re-stated percentage of an open milestone is re-priced', () => {
    const current = software(['accepted', 'invoiced']);
    // Build (open) re-states 35 %: priced at the new USD 130,000.00; Launch (open) keeps its amount.
    const { milestones } = applyChangeOrder(
      USD_100K,
      current,
      order({ contractValue: 13_000_000, change: [{ id: 'ms_3', amount: { percent: parsePercent('35') } }] }),
    );
    expect(milestones.map((m) => m.amount)).toEqual([2_500_000, 2_500_000, 4_550_000, 1_500_000]);
    expect(milestones[0]).toEqual(current[0]);
    expect(milestones[1]).toEqual(current[1]);
    // the contract change alone re-prices nothing
    const alone = applyChangeOrder(USD_100K, current, order({ contractValue: 13_000_000 }));
    expect(alone.milestones).toEqual(asFixed(current));
    // lowering it below the agreed amounts is refused
    expect(() => applyChangeOrder(USD_100K, current, order({ contractValue: 9_000_000 }))).toThrow(
      'amounts exceed the contract by USD 10,000.00',
    );
  });

  it('edits and cancels open (planned or disputed) milestones', () => {
    const current = software(['invoiced', 'planned', 'disputed', 'planned']);
    const { milestones } = applyChangeOrder(
      USD_100K,
      current,
      order({
        change: [
          {
            id: 'ms_2',
            name: '  Design v2 ',
            amount: { fixed: 2_000_000 },
            plannedDate: '2026-03-01',
            paymentTerms: 'net_15',
            triggerStage: 'design_approved',
          },
        ],
        cancel: ['ms_3'],
      }),
    );
    expect(milestones[1]).toMatchObject({
      name: 'Design v2',
      key: 'design',
      amount: 2_000_000,
      percent: null,
      plannedDate: '2026-03-01',
      paymentTerms: 'net_15',
      triggerStage: 'design_approved',
    });
    expect(milestones[2]!.status).toBe('cancelled');
    expect(milestones[0]).toEqual(current[0]);
    expect(milestones[3]).toEqual(current[3]);
    expect(scheduledTotal(milestones)).toBe(2_500_000 + 2_000_000 + 1_500_000);
  });

  it('validates the new version', () => {
    const error = domainError(() =>
      applyChangeOrder(USD_100K, software(), order({ add: [spec('Extra', { fixed: 15_000 })] })),
    );
    expect(error.code).toBe('schedule_invalid');
    expect(error.message).toBe('amounts exceed the contract by USD 150.00');
    expect(() =>
      applyChangeOrder(USD_100K, software(), order({ change: [{ id: 'ms_4', key: 'discovery' }] })),
    ).toThrow('milestones[3].key "discovery" is already used by milestones[0]');
  });

  it('re-estimates an open retainage release and leaves an accepted one alone', () => {
    const retainage = parsePercent('10');
    const terms = { ...USD_100K, retainagePercent: retainage };
    const construction = BUILT_IN_TEMPLATES.find((t) => t.key === 'construction')!;
    const current = buildSchedule(terms, specsFromTemplate(construction, '2026-01-01', retainage)).map(
      (m, i) => ({
        ...m,
        id: `ms_${i + 1}`,
        status: (i < 2 ? 'invoiced' : 'planned') as MilestoneStatus,
      }),
    );
    expect(current.at(-1)!.amount).toBe(1_000_000);
    const added = applyChangeOrder(
      terms,
      current,
      order({ contractValue: 11_000_000, add: [spec('Deck', { fixed: 1_000_000 })] }),
    );
    expect(added.milestones[6]!.amount).toBe(1_100_000);
    expect(added.milestones.slice(0, 6)).toEqual(asFixed(current.slice(0, 6)));

    const released = current.map((m) =>
      m.kind === 'retainage_release' ? { ...m, status: 'accepted' as const } : m,
    );
    const after = applyChangeOrder(
      terms,
      released,
      order({ contractValue: 11_000_000, add: [spec('Deck', { fixed: 1_000_000 })] }),
    );
    expect(after.milestones[6]!.amount).toBe(1_000_000);
  });

  it('property: adding milestones never alters any existing milestone', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 10_000_000, max: 1_000_000_000_000 }),
        splitArb.chain((weights) =>
          fc.tuple(
            fc.constant(weights),
            fc.array(fc.constantFrom(...MILESTONE_STATUSES), {
              minLength: weights.length,
              maxLength: weights.length,
            }),
          ),
        ),
        fc.array(fc.integer({ min: 1, max: 1_000_000_000 }), { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        (contractValue, [weights, statuses], extras, raiseContract) => {
          const terms = { contractValue, currency: 'EUR', retainagePercent: 0 };
          const current = buildSchedule(
            terms,
            weights.map((percent, i) => spec(`M${i}`, { percent })),
          ).map((m, i) => ({ ...m, id: `ms_${i}`, status: statuses[i]! }));
          const before = structuredClone(current);
          const extra = extras.reduce((a, b) => a + b, 0);
          const headroom = contractValue - scheduledTotal(current);
          const next = raiseContract ? contractValue + extra : contractValue;
          const o = order({
            contractValue: next,
            add: extras.map((fixed, i) => spec(`Added ${i}`, { fixed })),
          });
          if (!raiseContract && extra > headroom) {
            const error = domainError(() => applyChangeOrder(terms, current, o));
            expect(error.code).toBe('schedule_invalid');
            expect(error.issues.map((i) => i.code)).toEqual(['exceeds_contract']);
            return;
          }
          const { milestones } = applyChangeOrder(terms, current, o);
          expect(milestones.slice(0, current.length)).toEqual(
            next === contractValue ? before : asFixed(before),
          );
          expect(milestones.slice(current.length).map((m) => m.amount)).toEqual(extras);
          expect(scheduledTotal(milestones)).toBe(scheduledTotal(before) + extra);
          expect(current).toEqual(before);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('property: changing or cancelling a milestone succeeds exactly when it is open and one milestone stays', () => {
    fc.assert(
      fc.property(
        // A schedule has a live milestone: every one cancelled is no state the domain can reach.
        fc
          .array(fc.constantFrom(...MILESTONE_STATUSES), { minLength: 4, maxLength: 4 })
          .filter((statuses) => statuses.some((status) => status !== 'cancelled')),
        fc.subarray([0, 1, 2, 3]),
        fc.subarray([0, 1, 2, 3]),
        (statuses, changed, cancelled) => {
          const current = software(statuses);
          const before = structuredClone(current);
          const o = order({
            change: changed.map((i) => ({ id: `ms_${i + 1}`, deliverable: 'Revised deliverable' })),
            cancel: cancelled.map((i) => `ms_${i + 1}`),
          });
          const touched = [...changed, ...cancelled];
          const lockedTouched = touched.filter((i) => !isOpen(statuses[i]!));
          let result: Milestone[] | undefined;
          let error: unknown;
          try {
            result = applyChangeOrder(USD_100K, current, o).milestones;
          } catch (e) {
            error = e;
          }
          expect(current).toEqual(before);
          if (lockedTouched.length > 0) {
            expect(error).toBeInstanceOf(DomainError);
            expect((error as DomainError).code).toBe('milestone_locked');
            expect((error as DomainError).issues).toHaveLength(lockedTouched.length);
            return;
          }
          const live = statuses.filter((status, i) => status !== 'cancelled' && !cancelled.includes(i));
          if (live.length === 0) {
            expect(error).toBeInstanceOf(DomainError);
            expect((error as DomainError).code).toBe('schedule_invalid');
            expect((error as DomainError).issues).toEqual([
              { path: 'milestones', code: 'empty', message: 'a schedule needs at least one milestone' },
            ]);
            return;
          }
          expect(error).toBeUndefined();
          result!.forEach((m, i) => {
            if (!touched.includes(i)) expect(m).toEqual(before[i]);
            if (changed.includes(i)) expect(m.deliverable).toBe('Revised deliverable');
            if (cancelled.includes(i)) expect(m.status).toBe('cancelled');
            if (!isOpen(before[i]!.status)) expect(m).toEqual(before[i]);
            expect(m.amount).toBe(before[i]!.amount);
          });
        },
      ),
    );
  });

  it('retained amounts on the release match withholding after a change order', () => {
    const retainage = parsePercent('5');
    const terms = { ...USD_100K, retainagePercent: retainage };
    const current = buildSchedule(terms, [
      spec('A', { percent: parsePercent('60') }),
      spec('B', { percent: parsePercent('40') }),
      spec('Release', { fixed: 0 }, { kind: 'retainage_release' }),
    ]).map((m, i) => ({ ...m, id: `ms_${i}` }));
    const { milestones } = applyChangeOrder(terms, current, order({ cancel: ['ms_1'] }));
    expect(milestones[2]!.amount).toBe(withhold(6_000_000, retainage).retained);
  });
});
