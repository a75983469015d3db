import { Button, Flex, Heading, Input, Text, Toggle } from '@hubspot/ui-extensions';
import { useState } from 'react';
import { type CardApi, fieldError, Refusal } from '../cards/api.ts';
import type { ReminderPolicy } from './types.ts';

/** Chasing overdue invoices: when, how often, how many times, and whom never to chase. */
export function RemindersSection(props: {
  api: CardApi;
  policy: ReminderPolicy;
  onChanged: (what: string) => Promise<void>;
}) {
  const { api, policy } = props;
  const [form, setForm] = useState({
    enabled: policy.enabled,
    firstAfterDays: String(policy.firstAfterDays),
    everyDays: String(policy.everyDays),
    maxReminders: String(policy.maxReminders),
    excludedCustomerIds: policy.excludedCustomerIds.join(', '),
  });
  const [refusal, setRefusal] = useState<Refusal | undefined>();
  const set = (key: keyof typeof form) => (value: string | boolean) =>
    setForm((f) => ({ ...f, [key]: value }));
  const about = (field: string) => fieldError(refusal, field);
  const number = (text: string) => (/^\d+$/.test(text.trim()) ? Number(text) : text);

  const save = async () => {
    try {
      await api.put('/settings/reminders', {
        enabled: form.enabled,
        firstAfterDays: number(form.firstAfterDays),
        everyDays: number(form.everyDays),
        maxReminders: number(form.maxReminders),
        excludedCustomerIds: form.excludedCustomerIds
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      });
      setRefusal(undefined);
      await props.onChanged(
        form.enabled ? 'Overdue invoices are reminded by the new policy.' : 'Overdue reminders are off.',
      );
    } catch (error) {
      if (error instanceof Refusal) setRefusal(error);
    }
  };

  return (
    <Flex direction="column" gap="sm">
      <Heading>Overdue reminders</Heading>
      <Text>
        QuickBooks emails the invoice again and the deal owner gets a HubSpot task. A paid invoice is never
        reminded.
      </Text>
      <Toggle
        label="Remind overdue invoices"
        name="reminders.enabled"
        checked={form.enabled}
        onChange={set('enabled')}
      />
      <Flex direction="row" gap="sm" wrap="wrap">
        <Input
          label="First reminder, days after the due date"
          name="firstAfterDays"
          value={form.firstAfterDays}
          onInput={set('firstAfterDays')}
          {...about('firstAfterDays')}
        />
        <Input
          label="Then every (days)"
          name="everyDays"
          value={form.everyDays}
          onInput={set('everyDays')}
          {...about('everyDays')}
        />
        <Input
          label="At most (reminders)"
          name="maxReminders"
          value={form.maxReminders}
          onInput={set('maxReminders')}
          {...about('maxReminders')}
        />
        <Input
          label="Never remind these QuickBooks customer ids (comma-separated)"
          name="excludedCustomerIds"
          value={form.excludedCustomerIds}
          onInput={set('excludedCustomerIds')}
          {...about('excludedCustomerIds')}
        />
      </Flex>
      <Button testId="save-reminders" variant="primary" onClick={() => void save()}>
        Save reminder policy
      </Button>
    </Flex>
  );
}
