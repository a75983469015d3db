import { z } from 'zod';
import { faults } from '../faults.ts';
import type { Realm } from '../realm.ts';
import type { Customer, Invoice, Payment, PaymentLine } from '../types.ts';
import { companyDate, currencyDecimals, currencyName, isIsoDate, roundMoney, toMinorUnits } from '../util.ts';
import {
  idString,
  loadForWrite,
  money,
  parseInput,
  ref,
  rejectUnknownFields,
  SYSTEM_FIELDS,
} from './common.ts';
import { refreshCustomerBalance } from './customer.ts';

const PAYMENT_FIELDS = new Set([
  'Id',
  'SyncToken',
  'sparse',
  'domain',
  'status',
  'MetaData',
  'CustomField',
  'AttachableRef',
  'TxnDate',
  'DocNumber',
  'DepartmentRef',
  'CurrencyRef',
  'ExchangeRate',
  'PrivateNote',
  'TxnStatus',
  'LinkedTxn',
  'Line',
  'TxnTaxDetail',
  'TxnSource',
  'TransactionLocationType',
  'ProjectRef',
  'CustomerRef',
  'RemitToRef',
  'ARAccountRef',
  'DepositToAccountRef',
  'PaymentMethodRef',
  'PaymentRefNum',
  'PaymentType',
  'CheckPayment',
  'CreditCardPayment',
  'TotalAmt',
  'UnappliedAmt',
  'ProcessPayment',
  'TaxExemptionRef',
]);

const paymentInput = z.looseObject({
  Id: idString.optional(),
  SyncToken: idString.optional(),
  CustomerRef: ref.optional(),
  CurrencyRef: ref.optional(),
  TotalAmt: money.optional(),
  TxnDate: z.string().optional(),
  DepositToAccountRef: ref.optional(),
  ExchangeRate: money.optional(),
  Line: z
    .array(
      z.looseObject({
        Amount: money,
        LinkedTxn: z.array(
          z.looseObject({ TxnId: idString, TxnType: z.string(), TxnLineId: idString.optional() }),
        ),
      }),
    )
    .optional(),
});

/** Payment applies to invoices through Line[].LinkedTxn; each invoice's Balance and LinkedTxn follow. */
export function createPayment(realm: Realm, body: unknown): Payment {
  const input = parseInput('Payment', paymentInput, body);
  rejectUnknownFields('Payment', input, PAYMENT_FIELDS);
  if (!input.CustomerRef) throw faults.requiredParam('CustomerRef');
  if (input.TotalAmt === undefined) throw faults.requiredParam('TotalAmt');
  const customer = realm.get<Customer>('Customer', input.CustomerRef.value);
  if (!customer || customer.Active === false) {
    throw faults.invalidReference(
      `Customer assigned to this transaction is invalid or inactive (Id=${input.CustomerRef.value})`,
      'CustomerRef',
    );
  }
  const currency = (input.CurrencyRef?.value ?? customer.CurrencyRef.value).toUpperCase();
  if (currency !== customer.CurrencyRef.value) {
    throw faults.businessValidation(
      `Business Validation Error: The payment currency (${currency}) must match the currency of the customer "${customer.DisplayName}" (${customer.CurrencyRef.value}).`,
      'CurrencyRef',
    );
  }
  const minor = (n: number) => toMinorUnits(n, currency);
  const fromMinor = (n: number) => roundMoney(n / 10 ** currencyDecimals(currency), currency);
  const txnDate = input.TxnDate ?? companyDate();
  if (!isIsoDate(txnDate))
    throw faults.unsupportedProperty(
      `Property Name:TxnDate specified is unsupported or invalid (${txnDate})`,
    );
  if (input.TotalAmt < 0)
    throw faults.businessValidation(
      'Business Validation Error: The payment amount cannot be negative.',
      'TotalAmt',
    );

  const applications: Array<{ invoice: Invoice; amount: number }> = [];
  const lines: PaymentLine[] = [];
  let applied = 0;
  for (const line of input.Line ?? []) {
    const amount = minor(line.Amount);
    for (const link of line.LinkedTxn) {
      if (link.TxnType !== 'Invoice') {
        throw faults.businessValidation(
          `Business Validation Error: This sandbox only applies payments to invoices (TxnType=${link.TxnType}).`,
        );
      }
      const invoice = realm.get<Invoice>('Invoice', link.TxnId);
      if (!invoice)
        throw faults.invalidReference(
          `Invoice assigned to this payment is invalid (TxnId=${link.TxnId})`,
          'Line.LinkedTxn',
        );
      if (invoice.CustomerRef.value !== customer.Id) {
        throw faults.businessValidation(
          `Business Validation Error: Invoice ${invoice.Id} belongs to a different customer than this payment.`,
        );
      }
      if (realm.voided.has(`Invoice:${invoice.Id}`)) {
        throw faults.businessValidation(
          `Business Validation Error: Invoice ${invoice.Id} has been voided; payments can't be applied to it.`,
        );
      }
      const pending = applications
        .filter((a) => a.invoice.Id === invoice.Id)
        .reduce((s, a) => s + a.amount, 0);
      if (amount <= 0 || amount + pending > minor(invoice.Balance)) {
        throw faults.businessValidation(
          `Business Validation Error: The payment amount applied to invoice ${invoice.Id} (${line.Amount}) must be positive and cannot exceed its open balance (${invoice.Balance}).`,
          'Line.Amount',
        );
      }
      applications.push({ invoice, amount });
    }
    applied += amount;
    lines.push({ ...line, Amount: fromMinor(amount), LinkedTxn: line.LinkedTxn.map((l) => ({ ...l })) });
  }
  const total = minor(input.TotalAmt);
  if (applied > total) {
    throw faults.businessValidation(
      'Business Validation Error: The amounts applied exceed the payment total (TotalAmt).',
      'TotalAmt',
    );
  }

  const foreign = currency !== realm.settings.homeCurrency;
  const passthrough = Object.fromEntries(Object.entries(input).filter(([k]) => !SYSTEM_FIELDS.has(k)));
  const payment = realm.insert<Payment>('Payment', {
    ProcessPayment: false,
    ...passthrough,
    TxnDate: txnDate,
    CustomerRef: { value: customer.Id, name: customer.DisplayName },
    CurrencyRef: { value: currency, name: currencyName(currency) },
    ...(foreign ? { ExchangeRate: input.ExchangeRate ?? 1 } : {}),
    DepositToAccountRef: input.DepositToAccountRef ?? undepositedFunds(realm),
    TotalAmt: fromMinor(total),
    UnappliedAmt: fromMinor(total - applied),
    Line: lines,
  });

  for (const { invoice, amount } of applications) {
    invoice.Balance = fromMinor(minor(invoice.Balance) - amount);
    if (invoice.HomeBalance !== undefined) {
      invoice.HomeBalance = roundMoney(
        invoice.Balance * Number(invoice.ExchangeRate ?? 1),
        realm.settings.homeCurrency,
      );
    }
    if (!invoice.LinkedTxn.some((l) => l.TxnId === payment.Id && l.TxnType === 'Payment')) {
      invoice.LinkedTxn.push({ TxnId: payment.Id, TxnType: 'Payment' });
    }
    realm.save('Invoice', invoice);
  }
  refreshCustomerBalance(realm, customer.Id);
  return payment;
}

function undepositedFunds(realm: Realm): { value: string; name: string } | undefined {
  const account = realm.list('Account').find((a) => a.AccountSubType === 'UndepositedFunds');
  return account ? { value: account.Id, name: String(account.Name) } : undefined;
}

/** Un-applies a payment from its invoices (void or delete). */
function releaseInvoices(realm: Realm, payment: Payment): void {
  const currency = payment.CurrencyRef.value;
  for (const line of payment.Line) {
    for (const link of line.LinkedTxn) {
      const invoice = realm.get<Invoice>('Invoice', link.TxnId);
      if (!invoice) continue;
      invoice.Balance = roundMoney(invoice.Balance + line.Amount, currency);
      invoice.LinkedTxn = invoice.LinkedTxn.filter(
        (l) => !(l.TxnType === 'Payment' && l.TxnId === payment.Id),
      );
      realm.save('Invoice', invoice);
    }
  }
  refreshCustomerBalance(realm, payment.CustomerRef.value);
}

export function voidPayment(realm: Realm, body: unknown): Payment {
  const payment = loadForWrite<Payment>(realm, 'Payment', body as Record<string, unknown>);
  if (realm.voided.has(`Payment:${payment.Id}`)) return payment;
  releaseInvoices(realm, payment);
  realm.voided.add(`Payment:${payment.Id}`);
  payment.TotalAmt = 0;
  payment.UnappliedAmt = 0;
  for (const line of payment.Line) line.Amount = 0;
  payment.PrivateNote = 'Voided';
  return realm.save('Payment', payment, 'Void');
}

export function deletePayment(realm: Realm, body: unknown): { domain: 'QBO'; status: 'Deleted'; Id: string } {
  const payment = loadForWrite<Payment>(realm, 'Payment', body as Record<string, unknown>);
  if (!realm.voided.has(`Payment:${payment.Id}`)) releaseInvoices(realm, payment);
  realm.remove('Payment', payment.Id);
  return { domain: 'QBO', status: 'Deleted', Id: payment.Id };
}
