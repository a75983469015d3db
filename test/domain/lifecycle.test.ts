import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canTransition,
  isEarned,
  isOpen,
  MILESTONE_STATUSES,
  type MilestoneEvent,
  type MilestoneStatus,
  transition,
} from '../../src/domain/lifecycle.ts';
import { domainError } from './helpers.ts';

const EVENTS: MilestoneEvent[] = [
  'accept',
  'dispute',
  'resolve',
  'cancel',
  'push',
  'invoice_created',
  'invoice_failed',
  'retry',
  'partial_payment',
  'full_payment',
  'payment_reversed',
  'invoice_voided',
];

/** The whole DESIGN §5 state machine (plus payment reversals and cancelling a dispute). */
const TABLE: Record<MilestoneStatus, Partial<Record<MilestoneEvent, MilestoneStatus>>> = {
  planned: { accept: 'accepted', dispute: 'disputed', cancel: 'cancelled' },
  disputed: { resolve: 'planned', cancel: 'cancelled' },
  accepted: { push: 'invoicing' },
  invoicing: { invoice_created: 'invoiced', invoice_failed: 'invoice_failed' },
  invoice_failed: { retry: 'invoicing' },
  invoiced: { partial_payment: 'partially_paid', full_payment: 'paid', invoice_voided: 'accepted' },
  partially_paid: {
    partial_payment: 'partially_paid',
    full_payment: 'paid',
    payment_reversed: 'invoiced',
    invoice_voided: 'accepted',
  },
  paid: { partial_payment: 'partially_paid', payment_reversed: 'invoiced', invoice_voided: 'accepted' },
  cancelled: {},
};

const run = (start: MilestoneStatus, events: MilestoneEvent[]) =>
  events.reduce<MilestoneStatus>((status, event) => transition(status, event), start);

describe('milestone lifecycle', () => {
  it('walks every legal path of DESIGN §5', () => {
    // planned → accepted → invoicing → invoiced → partially_paid → paid
    expect(
      run('planned', [
        'accept',
        'push',
        'invoice_created',
        'partial_payment',
        'partial_payment',
        'full_payment',
      ]),
    ).toBe('paid');
    // invoiced → paid in one payment
    expect(run('planned', ['accept', 'push', 'invoice_created', 'full_payment'])).toBe('paid');
    // invoicing fails, is retried, succeeds
    expect(run('accepted', ['push', 'invoice_failed'])).toBe('invoice_failed');
    expect(
      run('accepted', ['push', 'invoice_failed', 'retry', 'invoice_failed', 'retry', 'invoice_created']),
    ).toBe('invoiced');
    // dispute and resolution, then acceptance
    expect(run('planned', ['dispute'])).toBe('disputed');
    expect(run('planned', ['dispute', 'resolve', 'accept'])).toBe('accepted');
    // cancel by change order
    expect(run('planned', ['cancel'])).toBe('cancelled');
    expect(run('planned', ['dispute', 'cancel'])).toBe('cancelled');
    // invoice voided or deleted in QuickBooks → accepted again, and invoiced anew
    expect(run('planned', ['accept', 'push', 'invoice_created', 'invoice_voided'])).toBe('accepted');
    expect(run('invoiced', ['invoice_voided', 'push', 'invoice_created'])).toBe('invoiced');
    expect(run('paid', ['invoice_voided'])).toBe('accepted');
    expect(run('partially_paid', ['invoice_voided'])).toBe('accepted');
    // payments deleted in QuickBooks
    expect(run('paid', ['payment_reversed'])).toBe('invoiced');
    expect(run('partially_paid', ['payment_reversed'])).toBe('invoiced');
    expect(run('paid', ['partial_payment'])).toBe('partially_paid');
  });

  it('allows exactly the transitions of the table', () => {
    expect([...MILESTONE_STATUSES].sort()).toEqual(Object.keys(TABLE).sort());
    for (const status of MILESTONE_STATUSES) {
      for (const event of EVENTS) {
        const target = TABLE[status][event];
        expect(canTransition(status, event), `${status} --${event}-->`).toBe(target !== undefined);
        if (target !== undefined) expect(transition(status, event)).toBe(target);
        else expect(() => transition(status, event), `${status} --${event}-->`).toThrow(/^cannot /);
      }
    }
  });

  it('refuses illegal transitions with illegal_transition and a readable message', () => {
    const cases: [MilestoneStatus, MilestoneEvent, string][] = [
      ['invoiced', 'cancel', 'cannot cancel a milestone that is invoiced'],
      ['accepted', 'cancel', 'cannot cancel a milestone that is accepted'],
      ['paid', 'cancel', 'cannot cancel a milestone that is paid'],
      ['invoicing', 'cancel', 'cannot cancel a milestone that is invoicing'],
      ['accepted', 'accept', 'cannot accept a milestone that is accepted'],
      ['cancelled', 'accept', 'cannot accept a milestone that is cancelled'],
      ['disputed', 'accept', 'cannot accept a milestone that is disputed'],
      ['planned', 'push', 'cannot invoice a milestone that is planned'],
      ['accepted', 'invoice_created', 'cannot mark as invoiced a milestone that is accepted'],
      ['invoiced', 'retry', 'cannot retry the invoice of a milestone that is invoiced'],
      ['planned', 'full_payment', 'cannot record full payment on a milestone that is planned'],
      ['paid', 'full_payment', 'cannot record full payment on a milestone that is paid'],
      ['planned', 'resolve', 'cannot resolve the dispute of a milestone that is planned'],
      ['accepted', 'dispute', 'cannot dispute a milestone that is accepted'],
      ['invoice_failed', 'push', 'cannot invoice a milestone that is invoice failed'],
      ['partially_paid', 'push', 'cannot invoice a milestone that is partially paid'],
      ['planned', 'invoice_voided', 'cannot void the invoice of a milestone that is planned'],
      ['invoiced', 'payment_reversed', 'cannot reverse a payment on a milestone that is invoiced'],
    ];
    for (const [status, event, message] of cases) {
      const error = domainError(() => transition(status, event));
      expect(error.code).toBe('illegal_transition');
      expect(error.message).toBe(message);
      expect(error.name).toBe('DomainError');
    }
  });

  it('cancelled is terminal', () => {
    for (const event of EVENTS) expect(canTransition('cancelled', event)).toBe(false);
  });

  it('classifies open and earned statuses', () => {
    const open = MILESTONE_STATUSES.filter(isOpen);
    const earned = MILESTONE_STATUSES.filter(isEarned);
    expect(open).toEqual(['planned', 'disputed']);
    expect(earned).toEqual(['accepted', 'invoicing', 'invoiced', 'invoice_failed', 'partially_paid', 'paid']);
    expect(isOpen('cancelled')).toBe(false);
    expect(isEarned('cancelled')).toBe(false);
  });

  it('once accepted, a milestone is never open or cancelled again, whatever happens', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...EVENTS), { maxLength: 40 }), (events) => {
        let status: MilestoneStatus = 'planned';
        let earned = false;
        for (const event of events) {
          if (!canTransition(status, event)) {
            expect(() => transition(status, event)).toThrow();
            continue;
          }
          status = transition(status, event);
          expect(MILESTONE_STATUSES).toContain(status);
          if (isEarned(status)) earned = true;
          if (earned) {
            expect(isOpen(status)).toBe(false);
            expect(status).not.toBe('cancelled');
          }
        }
      }),
    );
  });
});
