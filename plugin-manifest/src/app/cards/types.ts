/** The card API's answers, as the card reads them. */
export interface Money {
  amount: string;
  currency: string;
}

export interface Milestone {
  id: string;
  key: string;
  name: string;
  deliverable: string;
  acceptanceCriteria: string;
  amount: Money;
  percent: string | null;
  plannedDate: string;
  status: string;
  triggerStage: string | null;
  paymentTerms: unknown;
  needsAttention: boolean;
  attentionReason: string | null;
}

export interface Schedule {
  id: string;
  dealId: string;
  version: number;
  state: 'active' | 'frozen';
  contractValue: Money;
  paymentTerms: unknown;
  retainagePercent: string;
  totals: { scheduled: Money; unallocated: Money; invoiced: Money; earnedNotInvoiced: Money };
  milestones: Milestone[];
}

export interface Invoice {
  docNumber: string;
  status: string;
  amount: Money;
  url: string | null;
  error: string | null;
  /** Received on it in QuickBooks (milestone money; an overpayment stays the customer's credit). */
  paid: Money;
  dueDate: string | null;
  overdue: boolean;
  discrepancy: string | null;
}

export interface DealCard {
  received: { paid: Money; outstanding: Money; overdue: Money };
  deal: { id: string; name: string; amount: Money | null } | null;
  schedule: Schedule | null;
  /** The stages of the deal's pipeline, for "accepted at stage". */
  stages: Stage[];
  invoices: Record<string, Invoice>;
  quickbooks: 'connected' | 'needs_reconnect' | 'not_connected';
  attention: { code: string; message: string; milestoneId?: string }[];
  /** `triggerStages`: the template's stage labels that the deal's pipeline has. */
  templates: { key: string; name: string; triggerStages: string[] }[];
}

export interface Stage {
  id: string;
  label: string;
}

export interface Transition {
  from: string | null;
  to: string;
  event: string;
  actor: string;
  reason: string | null;
  at: string;
}
