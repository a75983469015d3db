import { Button, Flex, Heading, Input, Select, Text, Toggle } from '@hubspot/ui-extensions';
import { useEffect, useState } from 'react';
import { type CardApi, fieldError, Refusal } from '../cards/api.ts';
import { type Choices, type InvoiceDefaults, TERMS } from './types.ts';

const APP_ITEM = '';

/** How invoices look in QuickBooks: the income item, terms, tax, numbering and emailing. */
export function InvoiceDefaultsSection(props: {
  api: CardApi;
  defaults: InvoiceDefaults;
  connected: boolean;
  onChanged: (what: string) => Promise<void>;
}) {
  const { api, defaults, connected } = props;
  const [choices, setChoices] = useState<Choices | undefined>();
  const [form, setForm] = useState({
    incomeItemId: defaults.incomeItemId ?? APP_ITEM,
    defaultPaymentTerms:
      typeof defaults.defaultPaymentTerms === 'string' ? defaults.defaultPaymentTerms : 'net_30',
    taxCodeId: defaults.taxCodeId ?? '',
    taxable: defaults.taxable ?? false,
    docNumberPrefix: defaults.docNumberPrefix ?? 'MB-',
    emailInvoices: defaults.emailInvoices ?? false,
  });
  const [refusal, setRefusal] = useState<Refusal | undefined>();

  useEffect(() => {
    if (!connected) return;
    api
      .get<Choices>('/settings/quickbooks/choices')
      .then(setChoices)
      .catch((error: unknown) => setRefusal(error instanceof Refusal ? error : undefined));
  }, [api, connected]);

  const set =
    <K extends keyof typeof form>(key: K) =>
    (value: (typeof form)[K]) =>
      setForm((f) => ({ ...f, [key]: value }));
  const about = (field: string) => fieldError(refusal, field);

  const save = async () => {
    try {
      await api.put('/settings/invoice-defaults', {
        incomeItemId: form.incomeItemId || null,
        defaultPaymentTerms: form.defaultPaymentTerms,
        taxCodeId: form.taxCodeId || null,
        taxable: form.taxable,
        docNumberPrefix: form.docNumberPrefix,
        emailInvoices: form.emailInvoices,
      });
      setRefusal(undefined);
      await props.onChanged('The invoice defaults are saved; the next invoices use them.');
    } catch (error) {
      if (error instanceof Refusal) setRefusal(error);
    }
  };

  return (
    <Flex direction="column" gap="sm">
      <Heading>Invoice defaults</Heading>
      {!connected ? <Text>Connect QuickBooks to choose an item and a tax code from the company.</Text> : null}
      <Flex direction="row" gap="sm" wrap="wrap">
        <Select
          label="Income item"
          name="incomeItemId"
          value={form.incomeItemId}
          options={[
            { label: 'Milestone billing (the app makes this service item)', value: APP_ITEM },
            ...(choices?.items ?? []).map((i) => ({ label: `${i.name} (${i.type})`, value: i.id })),
          ]}
          onChange={(value) => set('incomeItemId')(String(value ?? ''))}
          {...about('incomeItemId')}
        />
        <Select
          label="Payment terms"
          name="defaultPaymentTerms"
          value={form.defaultPaymentTerms}
          options={TERMS}
          onChange={(value) => set('defaultPaymentTerms')(String(value))}
          {...about('defaultPaymentTerms')}
        />
        {choices?.taxCodes.length ? (
          <Select
            label="Tax code"
            name="taxCodeId"
            value={form.taxCodeId}
            options={choices.taxCodes.map((t) => ({ label: t.name, value: t.id }))}
            onChange={(value) => set('taxCodeId')(String(value ?? ''))}
            {...about('taxCodeId')}
          />
        ) : (
          <Toggle
            label="Milestone lines are taxable (US sales tax)"
            name="taxable"
            checked={form.taxable}
            onChange={set('taxable')}
          />
        )}
        <Input
          label="Invoice number prefix"
          name="docNumberPrefix"
          value={form.docNumberPrefix}
          onInput={set('docNumberPrefix')}
          {...about('docNumberPrefix')}
        />
        <Toggle
          label="QuickBooks emails each invoice to the billing contact"
          name="emailInvoices"
          checked={form.emailInvoices}
          onChange={set('emailInvoices')}
        />
      </Flex>
      {refusal && !refusal.issues.length ? <Text testId="defaults-refusal">{refusal.message}</Text> : null}
      <Button testId="save-defaults" variant="primary" onClick={() => void save()}>
        Save invoice defaults
      </Button>
    </Flex>
  );
}
