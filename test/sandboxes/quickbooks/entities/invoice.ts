import { z } from 'zod';
import { faults, QboFault } from '../faults.ts';
import type { Realm } from '../realm.ts';
import type { Customer, Entity, Invoice, InvoiceLine, Payment, Ref } from '../types.ts';
import {
  addDays,
  companyDate,
  currencyDecimals,
  currencyName,
  isIsoDate,
  qboDateTime,
  roundMoney,
  toMinorUnits,
} from '../util.ts';
import {
  assertEmail,
  emailAddr,
  idString,
  loadForWrite,
  money,
  type OpContext,
  parseInput,
  ref,
  rejectUnknownFields,
  SYSTEM_FIELDS,
} from './common.ts';
import { refreshCustomerBalance } from './customer.ts';

/** Top-level fields of QBO's Invoice schema (Transaction + SalesTransaction + Invoice). */
const INVOICE_FIELDS = new Set([
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
  'TaxFormType',
  'TaxFormNum',
  'TransactionLocationType',
  'Tag',
  'TxnApprovalInfo',
  'RecurDataRef',
  'TaxExemptionRef',
  'HomeTotalAmt',
  'ProjectRef',
  'AutoDocNumber',
  'CustomerRef',
  'CustomerMemo',
  'BillAddr',
  'ShipAddr',
  'FreeFormAddress',
  'ShipFromAddr',
  'RemitToRef',
  'ClassRef',
  'SalesTermRef',
  'DueDate',
  'SalesRepRef',
  'PONumber',
  'FOB',
  'ShipMethodRef',
  'ShipDate',
  'TrackingNum',
  'GlobalTaxCalculation',
  'TotalAmt',
  'HomeBalance',
  'ApplyTaxAfterDiscount',
  'TemplateRef',
  'PrintStatus',
  'EmailStatus',
  'BillEmail',
  'BillEmailCc',
  'BillEmailBcc',
  'ARAccountRef',
  'Balance',
  'FinanceCharge',
  'PaymentMethodRef',
  'PaymentRefNum',
  'PaymentType',
  'CheckPayment',
  'CreditCardPayment',
  'DepositToAccountRef',
  'DeliveryInfo',
  'DiscountRate',
  'DiscountAmt',
  'GovtTxnRefIdentifier',
  'TaxExemptionId',
  'Deposit',
  'AllowIPNPayment',
  'AllowOnlinePayment',
  'AllowOnlineCreditCardPayment',
  'AllowOnlineACHPayment',
  'AllowOnlinePayPalPayment',
  'EInvoiceStatus',
  'ECloudStatusTimeStamp',
  'CfdiUse',
  'InvoiceLink',
  'InvoiceLinkSecureUrl',
  'SecureInvoiceLinkEnabled',
  'HomeCurrencyRef',
]);

/** Fields QBO computes; client values are ignored. */
const COMPUTED = new Set([
  'TotalAmt',
  'Balance',
  'HomeBalance',
  'HomeTotalAmt',
  'TxnTaxDetail',
  'Line',
  'LinkedTxn',
  'DeliveryInfo',
  'InvoiceLink',
]);

const linkedTxn = z.looseObject({ TxnId: idString, TxnType: z.string(), TxnLineId: idString.optional() });

const lineInput = z.looseObject({
  Id: idString.optional(),
  LineNum: z.number().optional(),
  Description: z.string().optional(),
  Amount: money.optional(),
  DetailType: z.string().optional(),
  SalesItemLineDetail: z
    .looseObject({
      ItemRef: ref.optional(),
      Qty: money.optional(),
      UnitPrice: money.optional(),
      TaxCodeRef: ref.optional(),
      ServiceDate: z.string().optional(),
    })
    .optional(),
  DiscountLineDetail: z
    .looseObject({ PercentBased: z.boolean().optional(), DiscountPercent: money.optional() })
    .optional(),
  DescriptionLineDetail: z.looseObject({}).optional(),
  SubTotalLineDetail: z.looseObject({}).optional(),
  LinkedTxn: z.array(linkedTxn).optional(),
});

const invoiceInput = z.looseObject({
  Id: idString.optional(),
  SyncToken: idString.optional(),
  sparse: z.boolean().optional(),
  CustomerRef: ref.optional(),
  CurrencyRef: ref.optional(),
  SalesTermRef: ref.optional(),
  TxnDate: z.string().optional(),
  DueDate: z.string().optional(),
  DocNumber: z.string().optional(),
  PrivateNote: z.string().optional(),
  BillEmail: emailAddr.optional(),
  EmailStatus: z.enum(['NotSet', 'NeedToSend', 'EmailSent']).optional(),
  PrintStatus: z.enum(['NotSet', 'NeedToPrint', 'PrintComplete']).optional(),
  ExchangeRate: money.optional(),
  GlobalTaxCalculation: z.enum(['TaxExcluded', 'TaxInclusive', 'NotApplicable']).optional(),
  Line: z.array(lineInput).optional(),
  LinkedTxn: z.array(linkedTxn).optional(),
});

type InvoiceInput = z.output<typeof invoiceInput>;
type LineInput = z.output<typeof lineInput>;
type InvoiceFields = Omit<Invoice, 'Id' | 'SyncToken' | 'domain' | 'sparse' | 'MetaData'>;

const DETAIL_TYPES = [
  'SalesItemLineDetail',
  'DescriptionOnly',
  'DiscountLineDetail',
  'SubTotalLineDetail',
] as const;

function detailTypeOf(line: LineInput, index: number): string {
  if (line.DetailType) {
    if (!(DETAIL_TYPES as readonly string[]).includes(line.DetailType)) {
      throw new QboFault(
        400,
        '2170',
        'Invalid Enumeration',
        `Invalid Enumeration : ${line.DetailType}`,
        'ValidationFault',
        `Line[${index}].DetailType`,
      );
    }
    return line.DetailType;
  }
  if (line.SalesItemLineDetail) return 'SalesItemLineDetail';
  if (line.DiscountLineDetail) return 'DiscountLineDetail';
  if (line.SubTotalLineDetail) return 'SubTotalLineDetail';
  if (line.DescriptionLineDetail) return 'DescriptionOnly';
  throw faults.requiredParam('Line.DetailType');
}

export function paidAmount(realm: Realm, invoiceId: string): number {
  let paid = 0;
  for (const payment of realm.list<Payment>('Payment')) {
    if (realm.voided.has(`Payment:${payment.Id}`)) continue;
    for (const line of payment.Line) {
      if (line.LinkedTxn.some((l) => l.TxnType === 'Invoice' && l.TxnId === invoiceId)) paid += line.Amount;
    }
  }
  return paid;
}

function taxRateOf(realm: Realm, taxCode: Entity): number {
  const details =
    (taxCode.SalesTaxRateList as { TaxRateDetail?: Array<{ TaxRateRef?: Ref }> } | undefined)
      ?.TaxRateDetail ?? [];
  return details.reduce(
    (sum, d) => sum + Number(realm.get('TaxRate', d.TaxRateRef?.value)?.RateValue ?? 0),
    0,
  );
}

function customTxnNumbers(realm: Realm): boolean {
  const prefs = realm.get('Preferences', '1')?.SalesFormsPrefs as { CustomTxnNumbers?: boolean } | undefined;
  return prefs?.CustomTxnNumbers !== false;
}

function nextDocNumber(realm: Realm): string {
  const used = new Set(realm.list<Invoice>('Invoice').map((i) => i.DocNumber));
  while (used.has(String(realm.nextDocNumber))) realm.nextDocNumber++;
  return String(realm.nextDocNumber++);
}

function buildInvoice(
  realm: Realm,
  input: InvoiceInput,
  existing: Invoice | undefined,
  allowDuplicateDocNum: boolean,
): InvoiceFields {
  const { settings } = realm;
  if (!input.CustomerRef) throw faults.requiredParam('CustomerRef');
  const customer = realm.get<Customer>('Customer', input.CustomerRef.value);
  if (!customer) {
    throw faults.invalidReference(
      `Customer assigned to this transaction has been deleted or is invalid (Id=${input.CustomerRef.value})`,
      'CustomerRef',
    );
  }
  if (customer.Active === false) {
    throw faults.invalidReference(
      `Customer Id=${customer.Id} is inactive. Make it active before using it on a transaction.`,
      'CustomerRef',
    );
  }

  const customerCurrency = customer.CurrencyRef.value;
  const currency = (input.CurrencyRef?.value ?? customerCurrency).toUpperCase();
  if (currency !== settings.homeCurrency && !settings.multiCurrency) {
    throw faults.businessValidation(
      `Business Validation Error: Multicurrency is not enabled for this company. Transactions must be in the home currency (${settings.homeCurrency}), not ${currency}.`,
      'CurrencyRef',
    );
  }
  if (currency !== customerCurrency) {
    throw faults.businessValidation(
      `Business Validation Error: The transaction currency (${currency}) must match the currency of the customer "${customer.DisplayName}" (${customerCurrency}). Please select a customer with the same currency.`,
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

  let term: Entity | undefined;
  if (input.SalesTermRef) {
    term = realm.get('Term', input.SalesTermRef.value);
    if (!term)
      throw faults.invalidReference(
        `Term assigned to this transaction is invalid (Id=${input.SalesTermRef.value})`,
        'SalesTermRef',
      );
  } else {
    const customerTerm = (customer.SalesTermRef as Ref | undefined)?.value;
    const defaultTerm = (realm.get('Preferences', '1')?.SalesFormsPrefs as { DefaultTerms?: Ref } | undefined)
      ?.DefaultTerms?.value;
    term = realm.get('Term', customerTerm ?? defaultTerm);
  }
  const dueDate = input.DueDate ?? addDays(txnDate, Number(term?.DueDays ?? 0));
  if (!isIsoDate(dueDate))
    throw faults.unsupportedProperty(
      `Property Name:DueDate specified is unsupported or invalid (${dueDate})`,
    );

  const rawLines = (input.Line ?? []).map((line, i) => ({ line, type: detailTypeOf(line, i) }));
  const working = rawLines.filter((l) => l.type !== 'SubTotalLineDetail');
  if (!working.some((l) => l.type === 'SalesItemLineDetail')) throw faults.requiredParam('Line');

  const isUS = settings.country === 'US';
  const itemLines: InvoiceLine[] = [];
  const discountInputs: LineInput[] = [];
  const taxableByCode = new Map<string, number>();
  let subtotal = 0;
  let lineNum = 0;

  for (const { line, type } of working) {
    if (type === 'DiscountLineDetail') {
      discountInputs.push(line);
      continue;
    }
    lineNum++;
    if (type === 'DescriptionOnly') {
      itemLines.push({
        Id: String(lineNum),
        LineNum: lineNum,
        ...(line.Description !== undefined ? { Description: line.Description } : {}),
        DetailType: 'DescriptionOnly',
        DescriptionLineDetail: line.DescriptionLineDetail ?? {},
      });
      continue;
    }
    const detail = line.SalesItemLineDetail ?? {};
    if (!detail.ItemRef) throw faults.requiredParam('Line.SalesItemLineDetail.ItemRef');
    const item = realm.get('Item', detail.ItemRef.value);
    if (!item || item.Active === false) {
      throw faults.invalidReference(
        `Item elements (Id=${detail.ItemRef.value}) are invalid or inactive`,
        'Line.SalesItemLineDetail.ItemRef',
      );
    }
    let qty = detail.Qty;
    let unitPrice = detail.UnitPrice;
    let amount = line.Amount;
    if (amount === undefined) {
      if (qty === undefined || unitPrice === undefined) throw faults.requiredParam('Line.Amount');
      amount = qty * unitPrice;
    }
    if (qty !== undefined && unitPrice !== undefined) {
      if (minor(qty * unitPrice) !== minor(amount)) throw faults.amountCalculation(amount);
    } else if (qty === undefined && unitPrice === undefined) {
      qty = 1;
      unitPrice = amount;
    } else if (qty === undefined) {
      qty = unitPrice ? Number((amount / (unitPrice as number)).toFixed(5)) : 0;
    } else {
      unitPrice = qty ? Number((amount / qty).toFixed(5)) : 0;
    }
    const amountMinor = minor(amount);

    let taxCodeRef: Ref | undefined;
    if (isUS) {
      const code = detail.TaxCodeRef?.value ?? (item.Taxable ? 'TAX' : 'NON');
      if (code !== 'TAX' && code !== 'NON') throw faults.usTaxCode();
      taxCodeRef = { value: code };
    } else if (detail.TaxCodeRef) {
      const taxCode = realm.get('TaxCode', detail.TaxCodeRef.value);
      if (!taxCode || taxCode.Active === false) {
        throw faults.invalidReference(
          `TaxCode assigned to this line is invalid (Id=${detail.TaxCodeRef.value})`,
          'Line.SalesItemLineDetail.TaxCodeRef',
        );
      }
      taxCodeRef = { value: taxCode.Id };
      taxableByCode.set(taxCode.Id, (taxableByCode.get(taxCode.Id) ?? 0) + amountMinor);
    }
    subtotal += amountMinor;
    const incomeAccount = item.IncomeAccountRef as Ref | undefined;
    itemLines.push({
      ...Object.fromEntries(
        Object.entries(line).filter(
          ([k]) => !['Id', 'LineNum', 'Amount', 'DetailType', 'SalesItemLineDetail'].includes(k),
        ),
      ),
      Id: String(lineNum),
      LineNum: lineNum,
      Amount: fromMinor(amountMinor),
      DetailType: 'SalesItemLineDetail',
      SalesItemLineDetail: {
        ...detail,
        ItemRef: { value: item.Id, name: String(item.Name) },
        UnitPrice: unitPrice,
        Qty: qty,
        ...(incomeAccount ? { ItemAccountRef: { ...incomeAccount } } : {}),
        ...(taxCodeRef ? { TaxCodeRef: taxCodeRef } : {}),
      },
    });
  }

  let discount = 0;
  const discountLines: InvoiceLine[] = discountInputs.map((line) => {
    const d = line.DiscountLineDetail ?? {};
    const value =
      d.PercentBased && d.DiscountPercent !== undefined
        ? Math.round((subtotal * d.DiscountPercent) / 100)
        : line.Amount !== undefined
          ? minor(line.Amount)
          : (() => {
              throw faults.requiredParam('Line.Amount');
            })();
    discount += value;
    lineNum++;
    return {
      ...(line.Description !== undefined ? { Description: line.Description } : {}),
      Id: String(lineNum),
      LineNum: lineNum,
      Amount: fromMinor(value),
      DetailType: 'DiscountLineDetail',
      DiscountLineDetail: { PercentBased: Boolean(d.PercentBased), ...d },
    };
  });

  const globalTax = isUS ? undefined : (input.GlobalTaxCalculation ?? 'TaxExcluded');
  let tax = 0;
  const taxLines: unknown[] = [];
  for (const [codeId, taxable] of taxableByCode) {
    const code = realm.get('TaxCode', codeId) as Entity;
    const rate = taxRateOf(realm, code);
    const amount =
      globalTax === 'TaxInclusive'
        ? Math.round((taxable * rate) / (100 + rate))
        : Math.round((taxable * rate) / 100);
    tax += amount;
    taxLines.push({
      Amount: fromMinor(amount),
      DetailType: 'TaxLineDetail',
      TaxLineDetail: {
        TaxRateRef: (code.SalesTaxRateList as { TaxRateDetail: Array<{ TaxRateRef: Ref }> }).TaxRateDetail[0]
          ?.TaxRateRef,
        PercentBased: true,
        TaxPercent: rate,
        NetAmountTaxable: fromMinor(globalTax === 'TaxInclusive' ? taxable - amount : taxable),
      },
    });
  }
  const total = subtotal - discount + (globalTax === 'TaxInclusive' ? 0 : tax);
  if (total < 0)
    throw faults.businessValidation(
      'Business Validation Error: The transaction total cannot be negative.',
      'TotalAmt',
    );

  const paid = existing ? minor(paidAmount(realm, existing.Id)) : 0;
  if (total < paid) {
    throw faults.businessValidation(
      `Business Validation Error: The invoice total (${fromMinor(total)}) cannot be less than the payments already applied to it (${fromMinor(paid)}).`,
      'TotalAmt',
    );
  }

  // Preferences.SalesFormsPrefs.CustomTxnNumbers: on, a new invoice keeps the number sent and
  // has none when none was sent; off, QuickBooks numbers new invoices itself, whatever was sent.
  const customNumbers = customTxnNumbers(realm);
  let docNumber = existing || customNumbers ? input.DocNumber?.trim() || undefined : undefined;
  if (docNumber !== undefined && docNumber.length > 21) {
    throw faults.businessValidation(
      `String length is either shorter or longer than supported by specification. Min:0 Max:21 supplied:${docNumber.length} (DocNumber=${docNumber})`,
      'DocNumber',
    );
  }
  if (docNumber === undefined && !existing && !customNumbers) docNumber = nextDocNumber(realm);
  if (docNumber === undefined) docNumber = existing?.DocNumber;
  const docNumberChanged = !existing || existing.DocNumber !== docNumber;
  if (
    docNumber !== undefined &&
    settings.duplicateDocNumberCheck &&
    !allowDuplicateDocNum &&
    docNumberChanged
  ) {
    const clash = realm
      .list<Invoice>('Invoice')
      .find((i) => i.Id !== existing?.Id && i.DocNumber === docNumber);
    if (clash) throw faults.duplicateDocNumber(docNumber, 'Invoice', clash.Id);
  }

  const billEmail = input.BillEmail?.Address
    ? { Address: input.BillEmail.Address }
    : customer.PrimaryEmailAddr?.Address
      ? { Address: customer.PrimaryEmailAddr.Address }
      : undefined;
  if (billEmail) assertEmail(billEmail.Address);
  const emailStatus = input.EmailStatus ?? existing?.EmailStatus ?? 'NotSet';
  if (emailStatus === 'NeedToSend' && !billEmail) {
    throw faults.businessValidation(
      'Business Validation Error: An email address (BillEmail) is required when EmailStatus is NeedToSend.',
      'BillEmail',
    );
  }

  const foreign = currency !== settings.homeCurrency;
  const exchangeRate = foreign ? (input.ExchangeRate ?? 1) : undefined;
  const totalAmt = fromMinor(total);
  const balance = fromMinor(total - paid);
  const passthrough = Object.fromEntries(
    Object.entries(input).filter(([k]) => !SYSTEM_FIELDS.has(k) && !COMPUTED.has(k)),
  );
  const subtotalLine: InvoiceLine = {
    Amount: fromMinor(subtotal),
    DetailType: 'SubTotalLineDetail',
    SubTotalLineDetail: {},
  };

  return {
    AllowIPNPayment: false,
    AllowOnlinePayment: false,
    AllowOnlineCreditCardPayment: false,
    AllowOnlineACHPayment: false,
    CustomField: [],
    ...passthrough,
    DocNumber: docNumber,
    TxnDate: txnDate,
    CurrencyRef: { value: currency, name: currencyName(currency) },
    ...(exchangeRate !== undefined ? { ExchangeRate: exchangeRate } : {}),
    LinkedTxn: existing?.LinkedTxn ?? input.LinkedTxn ?? [],
    Line: [...itemLines, subtotalLine, ...discountLines],
    TxnTaxDetail: { TotalTax: fromMinor(tax), ...(taxLines.length ? { TaxLine: taxLines } : {}) },
    CustomerRef: { value: customer.Id, name: customer.DisplayName },
    ...(customer.BillAddr && !input.BillAddr ? { BillAddr: customer.BillAddr } : {}),
    ...(term ? { SalesTermRef: { value: term.Id, name: String(term.Name) } } : {}),
    DueDate: dueDate,
    ...(globalTax ? { GlobalTaxCalculation: globalTax } : {}),
    TotalAmt: totalAmt,
    ...(foreign ? { HomeTotalAmt: roundMoney(totalAmt * (exchangeRate ?? 1), settings.homeCurrency) } : {}),
    ApplyTaxAfterDiscount: false,
    PrintStatus: input.PrintStatus ?? existing?.PrintStatus ?? 'NotSet',
    EmailStatus: emailStatus,
    ...(billEmail ? { BillEmail: billEmail } : {}),
    ...(existing?.DeliveryInfo ? { DeliveryInfo: existing.DeliveryInfo } : {}),
    Balance: balance,
    ...(foreign ? { HomeBalance: roundMoney(balance * (exchangeRate ?? 1), settings.homeCurrency) } : {}),
    Deposit: 0,
  };
}

function allowsDuplicateDocNum(params: URLSearchParams): boolean {
  return (params.get('include') ?? '').toLowerCase().split(',').includes('allowduplicatedocnum');
}

function checkBody(body: unknown): InvoiceInput {
  const input = parseInput('Invoice', invoiceInput, body);
  rejectUnknownFields('Invoice', input, INVOICE_FIELDS);
  return input;
}

export function createInvoice(ctx: OpContext, body: unknown): Invoice {
  const input = checkBody(body);
  const fields = buildInvoice(ctx.realm, input, undefined, allowsDuplicateDocNum(ctx.params));
  const invoice = ctx.realm.insert<Invoice>('Invoice', fields);
  refreshCustomerBalance(ctx.realm, invoice.CustomerRef.value);
  return invoice;
}

export function updateInvoice(ctx: OpContext, body: unknown): Invoice {
  const input = checkBody(body);
  const { realm } = ctx;
  const existing = loadForWrite<Invoice>(realm, 'Invoice', input);
  if ((ctx.params.get('include') ?? '').toLowerCase().split(',').includes('void'))
    return voidInvoice(ctx, body);
  if (realm.voided.has(`Invoice:${existing.Id}`)) {
    throw faults.businessValidation(
      'Business Validation Error: This transaction has been voided and can no longer be edited.',
    );
  }
  const merged = input.sparse ? checkBody({ ...existing, ...(body as object) }) : input;
  const fields = buildInvoice(realm, merged, existing, allowsDuplicateDocNum(ctx.params));
  const next = {
    ...fields,
    Id: existing.Id,
    SyncToken: existing.SyncToken,
    domain: 'QBO',
    sparse: false,
    MetaData: existing.MetaData,
  } as Invoice;
  const saved = realm.save('Invoice', next);
  refreshCustomerBalance(realm, existing.CustomerRef.value);
  refreshCustomerBalance(realm, saved.CustomerRef.value);
  return saved;
}

function assertNoPayments(realm: Realm, invoice: Invoice, action: string): void {
  if (paidAmount(realm, invoice.Id) > 0) {
    throw faults.businessValidation(
      `Business Validation Error: You can't ${action} this transaction because it has payments applied to it. Remove the payments first.`,
    );
  }
}

/** What a void does in QBO: amounts zeroed, "Voided" memo, the record (and DocNumber) stays. */
export function applyVoid(realm: Realm, invoice: Invoice): Invoice {
  assertNoPayments(realm, invoice, 'void');
  if (realm.voided.has(`Invoice:${invoice.Id}`)) return invoice;
  for (const line of invoice.Line) {
    if (line.Amount !== undefined) line.Amount = 0;
    if (line.SalesItemLineDetail) line.SalesItemLineDetail.Qty = 0;
  }
  invoice.TotalAmt = 0;
  invoice.Balance = 0;
  if (invoice.HomeTotalAmt !== undefined) invoice.HomeTotalAmt = 0;
  if (invoice.HomeBalance !== undefined) invoice.HomeBalance = 0;
  invoice.TxnTaxDetail = { TotalTax: 0 };
  invoice.PrivateNote = 'Voided';
  realm.voided.add(`Invoice:${invoice.Id}`);
  const saved = realm.save('Invoice', invoice, 'Void');
  refreshCustomerBalance(realm, invoice.CustomerRef.value);
  return saved;
}

export function voidInvoice(ctx: OpContext, body: unknown): Invoice {
  const existing = loadForWrite<Invoice>(ctx.realm, 'Invoice', body as Record<string, unknown>);
  return applyVoid(ctx.realm, existing);
}

export function deleteInvoice(
  ctx: OpContext,
  body: unknown,
): { domain: 'QBO'; status: 'Deleted'; Id: string } {
  const existing = loadForWrite<Invoice>(ctx.realm, 'Invoice', body as Record<string, unknown>);
  assertNoPayments(ctx.realm, existing, 'delete');
  ctx.realm.remove('Invoice', existing.Id);
  refreshCustomerBalance(ctx.realm, existing.CustomerRef.value);
  return { domain: 'QBO', status: 'Deleted', Id: existing.Id };
}

export function sendInvoice(ctx: OpContext, id: string): Invoice {
  const invoice = ctx.realm.get<Invoice>('Invoice', id);
  if (!invoice) throw faults.objectNotFound('Invoice', id);
  // URLSearchParams decodes '+' as a space, exactly what trips an unencoded sendTo on QBO.
  const sendTo = ctx.params.get('sendTo') ?? undefined;
  const to = sendTo ?? invoice.BillEmail?.Address;
  if (!to)
    throw faults.businessValidation(
      'Business Validation Error: An email address is required to send this invoice.',
      'BillEmail',
    );
  assertEmail(to);
  invoice.EmailStatus = 'EmailSent';
  invoice.DeliveryInfo = { DeliveryType: 'Email', DeliveryTime: qboDateTime() };
  if (sendTo) invoice.BillEmail = { Address: sendTo };
  ctx.sentEmails.push({
    realmId: ctx.realm.id,
    invoiceId: invoice.Id,
    docNumber: invoice.DocNumber,
    to,
    at: new Date().toISOString(),
  });
  return ctx.realm.save('Invoice', invoice, 'Emailed');
}

export function invoicePdf(ctx: OpContext, id: string): Buffer {
  const invoice = ctx.realm.get<Invoice>('Invoice', id);
  if (!invoice) throw faults.objectNotFound('Invoice', id);
  const lines = [
    `${ctx.realm.settings.companyName} - Invoice ${invoice.DocNumber ?? invoice.Id}`,
    `Bill to: ${invoice.CustomerRef.name ?? invoice.CustomerRef.value}`,
    `Date: ${invoice.TxnDate}   Due: ${invoice.DueDate}`,
    ...invoice.Line.filter((l) => l.DetailType === 'SalesItemLineDetail').map(
      (l) => `${l.Description ?? l.SalesItemLineDetail?.ItemRef.name ?? ''}  ${l.Amount ?? ''}`,
    ),
    `Total: ${invoice.TotalAmt} ${invoice.CurrencyRef.value}   Balance due: ${invoice.Balance}`,
  ];
  return minimalPdf(lines);
}

/** A one-page PDF with text lines, valid enough for any viewer; byte offsets computed for the xref. */
function minimalPdf(lines: string[]): Buffer {
  const esc = (s: string) => s.replace(/[\\()]/g, '\\$&').replace(/[^\x20-\x7e]/g, '?');
  const content = `BT /F1 12 Tf 50 780 Td 16 TL ${lines.map((l) => `(${esc(l)}) Tj T*`).join(' ')} ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${Buffer.byteLength(content)} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((obj, i) => {
    offsets.push(Buffer.byteLength(out));
    out += `${i + 1} 0 obj\n${obj}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out);
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}
