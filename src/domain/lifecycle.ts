import { DomainError } from './errors.ts';

/** DESIGN §5. Each event names the statuses it may leave and the one it enters. */
export const MILESTONE_STATUSES = [
  'planned',
  'accepted',
  'invoicing',
  'invoiced',
  'invoice_failed',
  'partially_paid',
  'paid',
  'disputed',
  'cancelled',
] as const;
export type MilestoneStatus = (typeof MILESTONE_STATUSES)[number];

const EVENTS = {
  accept: { from: ['planned'], to: 'accepted' },
  dispute: { from: ['planned'], to: 'disputed' },
  resolve: { from: ['disputed'], to: 'planned' },
  cancel: { from: ['planned', 'disputed'], to: 'cancelled' },
  push: { from: ['accepted'], to: 'invoicing' },
  invoice_created: { from: ['invoicing'], to: 'invoiced' },
  invoice_failed: { from: ['invoicing'], to: 'invoice_failed' },
  retry: { from: ['invoice_failed'], to: 'invoicing' },
  partial_payment: { from: ['invoiced', 'partially_paid', 'paid'], to: 'partially_paid' },
  full_payment: { from: ['invoiced', 'partially_paid'], to: 'paid' },
  payment_reversed: { from: ['partially_paid', 'paid'], to: 'invoiced' },
  invoice_voided: { from: ['invoiced', 'partially_paid', 'paid'], to: 'accepted' },
} as const satisfies Record<string, { from: readonly MilestoneStatus[]; to: MilestoneStatus }>;

export type MilestoneEvent = keyof typeof EVENTS;

const WORDS: Record<MilestoneEvent, string> = {
  accept: 'accept',
  dispute: 'dispute',
  resolve: 'resolve the dispute of',
  cancel: 'cancel',
  push: 'invoice',
  invoice_created: 'mark as invoiced',
  invoice_failed: 'mark as failed to invoice',
  retry: 'retry the invoice of',
  partial_payment: 'record a partial payment on',
  full_payment: 'record full payment on',
  payment_reversed: 'reverse a payment on',
  invoice_voided: 'void the invoice of',
};

export function canTransition(status: MilestoneStatus, event: MilestoneEvent): boolean {
  return (EVENTS[event].from as readonly MilestoneStatus[]).includes(status);
}

/** The status after `event`, or an `illegal_transition` error saying why not. */
export function transition(status: MilestoneStatus, event: MilestoneEvent): MilestoneStatus {
  if (!canTransition(status, event)) {
    throw new DomainError(
      'illegal_transition',
      `cannot ${WORDS[event]} a milestone that is ${status.replace('_', ' ')}`,
    );
  }
  return EVENTS[event].to;
}

/** Milestones whose amount and terms may still change: nothing has been accepted or invoiced. */
export function isOpen(status: MilestoneStatus): boolean {
  return status === 'planned' || status === 'disputed';
}

/** Earned: accepted by the client, whether or not the invoice exists yet. */
export function isEarned(status: MilestoneStatus): boolean {
  return !isOpen(status) && status !== 'cancelled';
}
