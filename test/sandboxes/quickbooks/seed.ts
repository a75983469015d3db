import type { Realm } from './realm.ts';
import { currencyName, qboDateTime } from './util.ts';

const CLASSIFICATION: Record<string, string> = {
  Income: 'Revenue',
  'Accounts Receivable': 'Asset',
  'Other Current Asset': 'Asset',
  Bank: 'Asset',
  'Accounts Payable': 'Liability',
  'Other Current Liability': 'Liability',
  'Cost of Goods Sold': 'Expense',
  Expense: 'Expense',
};

const ACCOUNTS: Array<[name: string, type: string, subType: string]> = [
  ['Services', 'Income', 'ServiceFeeIncome'],
  ['Sales of Product Income', 'Income', 'SalesOfProductIncome'],
  ['Accounts Receivable (A/R)', 'Accounts Receivable', 'AccountsReceivable'],
  ['Undeposited Funds', 'Other Current Asset', 'UndepositedFunds'],
  ['Checking', 'Bank', 'Checking'],
  ['Accounts Payable (A/P)', 'Accounts Payable', 'AccountsPayable'],
  ['Cost of Goods Sold', 'Cost of Goods Sold', 'SuppliesMaterialsCogs'],
  ['Uncategorized Income', 'Income', 'OtherPrimaryIncome'],
  ['Uncategorized Expense', 'Expense', 'OtherMiscellaneousServiceCost'],
];

/** Non-US companies get numeric tax code ids; names follow each country's QBO defaults. */
const TAX_CODES: Record<string, Array<[name: string, rate: number]>> = {
  GB: [
    ['20.0% S', 20],
    ['5.0% R', 5],
    ['0.0% Z', 0],
    ['Exempt', 0],
    ['No VAT', 0],
  ],
  CA: [
    ['GST', 5],
    ['HST ON', 13],
    ['Zero-rated', 0],
    ['Exempt', 0],
  ],
  AU: [
    ['GST', 10],
    ['GST free', 0],
    ['Out Of Scope', 0],
  ],
};

const TERMS: Array<[name: string, days: number]> = [
  ['Due on receipt', 0],
  ['Net 15', 15],
  ['Net 30', 30],
  ['Net 60', 60],
];

/** What a brand-new QBO company contains before anyone touches it. */
export function seedRealm(realm: Realm): void {
  const { settings } = realm;
  const home = { value: settings.homeCurrency, name: currencyName(settings.homeCurrency) };
  const silent = { silent: true };

  for (const [name, type, subType] of ACCOUNTS) {
    realm.insert(
      'Account',
      {
        Name: name,
        SubAccount: false,
        FullyQualifiedName: name,
        Active: true,
        Classification: CLASSIFICATION[type] ?? 'Expense',
        AccountType: type,
        AccountSubType: subType,
        CurrentBalance: 0,
        CurrentBalanceWithSubAccounts: 0,
        CurrencyRef: home,
      },
      silent,
    );
  }

  for (const [name, days] of TERMS) {
    realm.insert(
      'Term',
      { Name: name, Active: true, Type: 'STANDARD', DueDays: days, DiscountDays: 0 },
      silent,
    );
  }

  if (settings.country === 'US') {
    for (const [id, taxable] of [
      ['TAX', true],
      ['NON', false],
    ] as const) {
      realm.insert(
        'TaxCode',
        {
          Id: id,
          Name: id,
          Description: taxable ? 'TAX' : 'NON',
          Active: true,
          Hidden: false,
          Taxable: taxable,
          TaxGroup: false,
          SalesTaxRateList: { TaxRateDetail: [] },
          PurchaseTaxRateList: { TaxRateDetail: [] },
        },
        silent,
      );
    }
  } else {
    const codes = TAX_CODES[settings.country] ?? TAX_CODES.GB ?? [];
    realm.nextId('TaxCode'); // QBO reserves TaxCode 1 for its internal "out of scope" code.
    for (const [name, rate] of codes) {
      const taxRate = realm.insert(
        'TaxRate',
        { Name: name, Description: name, Active: true, RateValue: rate, SpecialTaxType: 'NONE' },
        silent,
      );
      realm.insert(
        'TaxCode',
        {
          Name: name,
          Description: name,
          Active: true,
          Hidden: false,
          Taxable: rate > 0,
          TaxGroup: true,
          SalesTaxRateList: {
            TaxRateDetail: [
              { TaxRateRef: { value: taxRate.Id, name }, TaxTypeApplicable: 'TaxOnAmount', TaxOrder: 0 },
            ],
          },
          PurchaseTaxRateList: { TaxRateDetail: [] },
        },
        silent,
      );
    }
  }

  const services = { value: '1', name: 'Services' };
  for (const name of ['Services', 'Hours']) {
    realm.insert(
      'Item',
      {
        Name: name,
        Active: true,
        FullyQualifiedName: name,
        Taxable: false,
        UnitPrice: 0,
        Type: 'Service',
        IncomeAccountRef: services,
        PurchaseCost: 0,
        TrackQtyOnHand: false,
      },
      silent,
    );
  }

  realm.insert(
    'Vendor',
    {
      DisplayName: 'Acme Supplies',
      CompanyName: 'Acme Supplies',
      PrintOnCheckName: 'Acme Supplies',
      Active: true,
      Balance: 0,
      Vendor1099: false,
      CurrencyRef: home,
    },
    silent,
  );
  realm.insert(
    'Employee',
    {
      GivenName: 'Emily',
      FamilyName: 'Platt',
      DisplayName: 'Emily Platt',
      PrintOnCheckName: 'Emily Platt',
      Active: true,
      BillableTime: false,
    },
    silent,
  );

  const address = companyAddress(settings.country);
  realm.insert(
    'CompanyInfo',
    {
      Id: '1',
      CompanyName: settings.companyName,
      LegalName: settings.companyName,
      CompanyAddr: address,
      CustomerCommunicationAddr: address,
      LegalAddr: address,
      PrimaryPhone: {},
      CompanyStartDate: qboDateTime().slice(0, 10),
      FiscalYearStartMonth: 'January',
      Country: settings.country,
      Email: { Address: 'noreply@quickbooks.com' },
      WebAddr: {},
      SupportedLanguages: 'en',
      NameValue: [
        { Name: 'NeoEnabled', Value: 'true' },
        { Name: 'IsQbdtMigrated', Value: 'false' },
        { Name: 'SubscriptionStatus', Value: 'SUBSCRIBED' },
        { Name: 'OfferingSku', Value: 'QuickBooks Online Plus' },
        { Name: 'PayrollFeature', Value: 'false' },
      ],
    },
    silent,
  );

  realm.insert(
    'Preferences',
    {
      Id: '1',
      AccountingInfoPrefs: {
        TrackDepartments: false,
        DepartmentTerminology: 'Location',
        ClassTrackingPerTxn: false,
        ClassTrackingPerTxnLine: false,
        CustomerTerminology: 'Customers',
        FirstMonthOfFiscalYear: 'January',
        UseAccountNumbers: false,
      },
      ProductAndServicesPrefs: {
        ForSales: true,
        ForPurchase: true,
        QuantityWithPriceAndRate: true,
        QuantityOnHand: true,
      },
      SalesFormsPrefs: {
        CustomField: [],
        AllowDeposit: true,
        AllowDiscount: true,
        AllowEstimates: true,
        AllowServiceDate: false,
        AllowShipping: false,
        AutoApplyCredit: true,
        CustomTxnNumbers: settings.customTxnNumbers,
        DefaultTerms: { value: '3' },
        ETransactionEnabledStatus: 'NotApplicable',
        EmailCopyToCompany: false,
        IPNSupportEnabled: false,
        UsingPriceLevels: false,
        UsingProgressInvoicing: false,
        DefaultCustomerMessage: 'Thank you for your business and have a great day!',
      },
      EmailMessagesPrefs: {
        InvoiceMessage: {
          Subject: `Invoice [Invoice No.] from ${settings.companyName}`,
          Message: 'Dear [Full Name],\n\nWe appreciate your business. Please find your invoice details here.',
        },
      },
      VendorAndPurchasesPrefs: { TrackingByCustomer: true, BillableExpenseTracking: true, POCustomField: [] },
      TimeTrackingPrefs: {
        UseServices: true,
        BillCustomers: true,
        ShowBillRateToAll: false,
        MarkTimeEntriesBillable: true,
      },
      TaxPrefs: { UsingSalesTax: settings.country === 'US', PartnerTaxEnabled: settings.country === 'US' },
      CurrencyPrefs: {
        MultiCurrencyEnabled: settings.multiCurrency,
        HomeCurrency: { value: settings.homeCurrency },
      },
      ReportPrefs: { ReportBasis: 'Accrual', CalcAgingReportFromTxnDate: false },
      OtherPrefs: { NameValue: [{ Name: 'SalesFormsPrefs.DefaultCustomerMessage', Value: '' }] },
    },
    silent,
  );
}

function companyAddress(country: string): Record<string, string> {
  switch (country) {
    case 'GB':
      return { Id: '1', Line1: '1 Market Street', City: 'London', PostalCode: 'EC1A 1AA', Country: 'GB' };
    case 'CA':
      return {
        Id: '1',
        Line1: '100 King St W',
        City: 'Toronto',
        CountrySubDivisionCode: 'ON',
        PostalCode: 'M5X 1A9',
        Country: 'CA',
      };
    case 'AU':
      return {
        Id: '1',
        Line1: '1 George St',
        City: 'Sydney',
        CountrySubDivisionCode: 'NSW',
        PostalCode: '2000',
        Country: 'AU',
      };
    default:
      return {
        Id: '1',
        Line1: '2600 Marine Way',
        City: 'Mountain View',
        CountrySubDivisionCode: 'CA',
        PostalCode: '94043',
        Country: country,
      };
  }
}
