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
  needsAttention: boolean;
  attentionReason: string | null;
}

export interface Schedule {
  id: string;
  dealId: string;
  version: number;
  state: 'active' | 'frozen';
  contractValue: Money;
  totals: { scheduled: Money; unallocated: Money; invoiced: Money; earnedNotInvoiced: Money };
  milestones: Milestone[];
}

export interface Invoice {
  docNumber: string;
  status: string;
  amount: Money;
  url: string | null;
  error: string | null;
}

export interface DealCard {
  deal: { id: string; name: string; amount: Money | null } | null;
  schedule: Schedule | null;
  invoices: Record<string, Invoice>;
  quickbooks: 'connected' | 'needs_reconnect' | 'not_connected';
  attention: { code: string; message: string; milestoneId?: string }[];
  templates: { key: string; name: string }[];
}
