import { Button, EmptyState, Flex, Heading, Input, Select, Text } from '@hubspot/ui-extensions';
import { useState } from 'react';
import { allocationMessage } from './allocation.ts';
import { type CardApi, Refusal } from './api.ts';
import type { DealCard } from './types.ts';

interface Row {
  name: string;
  deliverable: string;
  acceptanceCriteria: string;
  percent: string;
  plannedDate: string;
}

const emptyRow = (): Row => ({
  name: '',
  deliverable: '',
  acceptanceCriteria: '',
  percent: '',
  plannedDate: '',
});

/** A deal without a schedule: start from a template scaled to the deal amount, or build one by hand. */
export function NoSchedule(props: {
  api: CardApi;
  card: DealCard;
  dealId: string;
  onChanged: (what: string) => Promise<void>;
}) {
  const { api, card, dealId } = props;
  const [template, setTemplate] = useState(card.templates[0]?.key ?? '');
  const [rows, setRows] = useState<Row[] | undefined>();
  const [refusal, setRefusal] = useState<Refusal | undefined>();

  const apply = async () => {
    try {
      await api.post(`/deals/${dealId}/schedule/template`, {
        template,
        startDate: new Date().toISOString().slice(0, 10),
      });
      await props.onChanged('The template is applied to the deal amount.');
    } catch (error) {
      if (error instanceof Refusal) setRefusal(error);
    }
  };
  const save = async () => {
    try {
      await api.put(`/deals/${dealId}/schedule`, { milestones: rows });
      await props.onChanged('The schedule is saved.');
    } catch (error) {
      if (error instanceof Refusal) setRefusal(error);
    }
  };
  const edit = (i: number, field: keyof Row, value: string) =>
    setRows((current) => current?.map((r, j) => (j === i ? { ...r, [field]: value } : r)));

  if (!rows) {
    return (
      <EmptyState title="No billing schedule yet" layout="vertical">
        <Text>
          {card.deal?.amount
            ? `Schedule the ${card.deal.amount.currency} ${card.deal.amount.amount} of this deal in milestones.`
            : 'Give the deal an amount in HubSpot, then schedule it in milestones.'}
        </Text>
        <Select
          label="Template"
          name="template"
          value={template}
          options={card.templates.map((t) => ({ label: t.name, value: t.key }))}
          onChange={(value) => setTemplate(String(value))}
          error={Boolean(refusal)}
          validationMessage={refusal?.message}
        />
        <Flex gap="sm">
          <Button testId="apply-template" variant="primary" onClick={() => void apply()}>
            Apply template
          </Button>
          <Button testId="build" onClick={() => setRows([emptyRow()])}>
            Build by hand
          </Button>
        </Flex>
      </EmptyState>
    );
  }
  const allocation = allocationMessage(rows);
  return (
    <Flex direction="column" gap="sm">
      <Heading>New schedule</Heading>
      {rows.map((row, i) => {
        const at = `milestones[${i}]`;
        const field = (name: keyof Row, label: string) => (
          <Input
            key={name}
            label={label}
            name={`${at}.${name}`}
            value={row[name]}
            onInput={(value) => edit(i, name, value)}
            error={Boolean(refusal?.about(`${at}.${name}`))}
            validationMessage={refusal?.about(`${at}.${name}`)}
          />
        );
        return (
          // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity before they are saved
          <Flex key={i} direction="row" gap="xs" wrap="wrap">
            {field('name', 'Milestone')}
            {field('deliverable', 'Deliverable')}
            {field('acceptanceCriteria', 'Acceptance criteria')}
            {field('percent', 'Share of the contract (%)')}
            {field('plannedDate', 'Planned date (YYYY-MM-DD)')}
          </Flex>
        );
      })}
      <Text testId="allocation" variant={allocation.over ? 'microcopy' : 'bodytext'}>
        {allocation.text}
      </Text>
      {refusal && !refusal.issues.length ? <Text testId="refusal">{refusal.message}</Text> : null}
      <Flex gap="sm">
        <Button testId="add-row" onClick={() => setRows([...rows, emptyRow()])}>
          Add a milestone
        </Button>
        <Button
          testId="save-schedule"
          variant="primary"
          disabled={allocation.over}
          onClick={() => void save()}
        >
          Save schedule
        </Button>
      </Flex>
    </Flex>
  );
}
