import { assertNoIssues, type Issue } from './errors.ts';
import { isOpen, transition } from './lifecycle.ts';
import {
  type ContractTerms,
  fromSpecs,
  type Milestone,
  type MilestoneSpec,
  price,
  validate,
} from './schedule.ts';

export type MilestoneChange = { id: string } & Partial<MilestoneSpec>;

/** A scope change: new milestones, edits and cancellations of open ones, maybe a new contract value. */
export interface ChangeOrder {
  contractValue?: number | undefined;
  retainagePercent?: number | undefined;
  add: MilestoneSpec[];
  change: MilestoneChange[];
  cancel: string[];
}

/**
 * Applies a change order to a schedule's milestones and returns the next version's list (new
 * milestones have `id: null`). Milestones that are accepted, being invoiced or invoiced never
 * change. A scope change adds milestones with their own amounts: existing ones keep theirs,
 * even when the contract value changes, unless the order re-states their percentage.
 */
export function applyChangeOrder(
  terms: ContractTerms,
  current: readonly Milestone[],
  order: ChangeOrder,
): { terms: ContractTerms; milestones: Milestone[] } {
  const next: ContractTerms = {
    ...terms,
    contractValue: order.contractValue ?? terms.contractValue,
    retainagePercent: order.retainagePercent ?? terms.retainagePercent,
  };
  const milestones = current.map((m) => ({ ...m }));
  const byId = new Map(milestones.map((m) => [m.id, m]));
  const repriced = new Set<Milestone>();
  const issues: Issue[] = [];
  const locked = (path: string, m: Milestone) =>
    issues.push({
      path,
      code: 'milestone_locked',
      message: `${path}: "${m.name}" is ${m.status.replace('_', ' ')} and can no longer change`,
    });

  for (const [index, change] of order.change.entries()) {
    const path = `change[${index}]`;
    const m = byId.get(change.id);
    if (!m) {
      issues.push({
        path: `${path}.id`,
        code: 'not_found',
        message: `${path}.id: no milestone ${change.id}`,
      });
      continue;
    }
    if (!isOpen(m.status)) {
      locked(path, m);
      continue;
    }
    if (change.key !== undefined) m.key = change.key;
    for (const field of ['name', 'deliverable', 'acceptanceCriteria'] as const) {
      const value = change[field];
      if (value !== undefined) m[field] = value.trim();
    }
    if (change.plannedDate !== undefined) m.plannedDate = change.plannedDate;
    if (change.triggerStage !== undefined) m.triggerStage = change.triggerStage;
    if (change.paymentTerms !== undefined) m.paymentTerms = change.paymentTerms;
    if (change.amount !== undefined) {
      m.percent = 'percent' in change.amount ? change.amount.percent : null;
      if ('fixed' in change.amount) m.amount = change.amount.fixed;
      else repriced.add(m);
    }
  }

  for (const [index, id] of order.cancel.entries()) {
    const path = `cancel[${index}]`;
    const m = byId.get(id);
    if (!m) issues.push({ path, code: 'not_found', message: `${path}: no milestone ${id}` });
    else if (!isOpen(m.status)) locked(path, m);
    else m.status = transition(m.status, 'cancel');
  }
  const code = issues.some((i) => i.code === 'milestone_locked')
    ? 'milestone_locked'
    : 'change_order_invalid';
  assertNoIssues(code, 'the change order cannot be applied', issues);

  // A percentage describes a share of the contract it was priced against; when the contract
  // changes, milestones not re-priced keep their amount and become fixed.
  if (next.contractValue !== terms.contractValue) {
    for (const m of milestones)
      if (isOpen(m.status) && !repriced.has(m) && m.kind === 'standard') m.percent = null;
  }
  const added = fromSpecs(
    order.add,
    milestones.filter((m) => m.splitFromId === null).map((m) => m.key),
  );
  for (const m of added) repriced.add(m);
  const all = [...milestones, ...added];
  price(next, all, repriced);
  validate(next, all);
  return { terms: next, milestones: all };
}
