/** The payment terms a person picks from, as the backend names them. */
export const TERMS = [
  { label: 'Due on receipt', value: 'due_on_receipt' },
  { label: 'Net 7', value: 'net_7' },
  { label: 'Net 15', value: 'net_15' },
  { label: 'Net 30', value: 'net_30' },
  { label: 'Net 60', value: 'net_60' },
];

export const termsLabel = (terms: unknown) =>
  typeof terms === 'string'
    ? (TERMS.find((t) => t.value === terms)?.label ?? terms)
    : terms && typeof terms === 'object' && 'customDays' in terms
      ? `Net ${String(terms.customDays)}`
      : '';
