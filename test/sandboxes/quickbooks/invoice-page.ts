import type { Realm } from './realm.ts';
import type { Invoice } from './types.ts';
import { escapeHtml } from './util.ts';

function status(realm: Realm, invoice: Invoice): string {
  if (realm.voided.has(`Invoice:${invoice.Id}`)) return 'Voided';
  if (invoice.Balance === 0) return 'Paid';
  if (invoice.Balance < invoice.TotalAmt) return 'Partially paid';
  return 'Open';
}

function money(amount: number, currency: string): string {
  return `${amount.toLocaleString('en-US', { minimumFractionDigits: currency === 'JPY' ? 0 : 2 })} ${escapeHtml(currency)}`;
}

/** Plain page for the demo: what a bookkeeper would see in QBO's invoice list. */
export function invoicesPage(realms: Realm[]): string {
  const sections = realms.map((realm) => {
    const invoices = realm.list<Invoice>('Invoice').sort((a, b) => Number(b.Id) - Number(a.Id));
    const rows = invoices
      .map((inv) => {
        const st = status(realm, inv);
        const description = inv.Line.filter((l) => l.DetailType === 'SalesItemLineDetail')
          .map((l) => l.Description ?? l.SalesItemLineDetail?.ItemRef.name ?? '')
          .join('; ');
        return `<tr><td>${escapeHtml(inv.DocNumber ?? '')}</td><td>${escapeHtml(inv.CustomerRef.name ?? inv.CustomerRef.value)}</td>
<td>${escapeHtml(inv.TxnDate)}</td><td>${escapeHtml(inv.DueDate)}</td><td>${escapeHtml(inv.CurrencyRef.value)}</td>
<td class="num">${money(inv.TotalAmt, inv.CurrencyRef.value)}</td><td class="num">${money(inv.Balance, inv.CurrencyRef.value)}</td>
<td><span class="st ${st.replace(/\s/g, '-').toLowerCase()}">${st}</span></td><td>${escapeHtml(description)}</td></tr>`;
      })
      .join('\n');
    return `<section><h2>${escapeHtml(realm.settings.companyName)} <small>realm ${escapeHtml(realm.id)} · ${escapeHtml(realm.settings.country)} · home ${escapeHtml(realm.settings.homeCurrency)}${realm.settings.multiCurrency ? ' · multicurrency' : ''}</small></h2>
${invoices.length === 0 ? '<p class="empty">No invoices yet.</p>' : `<table><thead><tr><th>No.</th><th>Customer</th><th>Date</th><th>Due</th><th>Currency</th><th class="num">Total</th><th class="num">Balance</th><th>Status</th><th>Description</th></tr></thead><tbody>${rows}</tbody></table>`}</section>`;
  });
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5"><title>QuickBooks sandbox — invoices</title>
<style>body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#393a3d;background:#f4f5f8}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}small{color:#8d9096;font-weight:400}
table{border-collapse:collapse;width:100%;background:#fff;box-shadow:0 1px 3px rgba(0,0,0,.08)}
th,td{padding:8px 10px;border-bottom:1px solid #eceef1;text-align:left;font-size:14px}th{background:#f9fafb;font-weight:600}
.num{text-align:right;font-variant-numeric:tabular-nums}.st{padding:2px 8px;border-radius:10px;font-size:12px}
.open{background:#fff4e0}.paid{background:#e2f5dc}.voided{background:#eceef1;color:#6b6c72}.partially-paid{background:#e3f0fb}
.empty{color:#8d9096}</style></head><body><h1>QuickBooks Online sandbox — invoices</h1>
${sections.join('\n') || '<p class="empty">No companies.</p>'}</body></html>`;
}
