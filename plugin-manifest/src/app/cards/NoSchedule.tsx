import { Button, Checkbox, EmptyState, Flex, Heading, Input, Select, Text } from '@hubspot/ui-extensions';
import { useState } from 'react';
import { allocationMessage } from './allocation.ts';
import { type CardApi, fieldError, Refusal } from './api.ts';
import { TERMS } from './terms.ts';
import type { DealCard } from './types.ts';

interface Row {
  name: string;
  deliverable: string;
  acceptanceCriteria: string;
  /** What `share` is: a percentage of the contract, or an amount in the deal's currency. */
  by: 'percent' | 'amount';
  share: string;
  plannedDate: string;
  triggerStage: string;
  paymentTerms: string;
}

const emptyRow = (): Row => ({
  name: '',
  deliverable: '',
  acceptanceCriteria: '',
  by: 'percent',
  share: '',
  plannedDate: '',
  triggerStage: '',
  paymentTerms: '',
});

/** A row's share as a percentage of the deal amount, for the live total. */
function percentOf(row: Row, dealAmount: number | undefined): string {
  if (row.by === 'percent') return row.share;
  if (!dealAmount) return '0';
  return String((Number(row.share || 0) / dealAmount) * 100);
}

const NO_STAGE = '';
const DEAL_TERMS = '';

/** A deal without a schedule: start from a template scaled to the deal amount, or build one by hand. */
export function NoSchedule(props: {
  api: CardApi;
  card: DealCard;
  dealId: string;
  onChanged: (what: string) => Promise<void>;
}) {
  const { api, card, dealId } = props;
  const [template, setTemplate] = useState(card.templates[0]?.key ?? '');
  const [useStages, setUseStages] = useState(true);
  const [rows, setRows] = useState<Row[] | undefined>();
  const [terms, setTerms] = useState('net_30');
  const [retainage, setRetainage] = useState('');
  const [refusal, setRefusal] = useState<Refusal | undefined>();
  const chosen = card.templates.find((t) => t.key === template);
  const dealAmount = card.deal?.amount ? Number(card.deal.amount.amount) : undefined;

  const apply = async () => {
    try {
      await api.post(`/deals/${dealId}/schedule/template`, {
        template,
        startDate: new Date().toISOString().slice(0, 10),
        useTriggerStages: Boolean(chosen?.triggerStages.length) && useStages,
      });
      await props.onChanged('The template is applied to the deal amount.');
    } catch (error) {
      if (error instanceof Refusal) setRefusal(error);
    }
  };
  const save = async () => {
    try {
      await api.put(`/deals/${dealId}/schedule`, {
        paymentTerms: terms,
        ...(retainage ? { retainagePercent: retainage } : {}),
        milestones: (rows ?? []).map((r) => ({
          name: r.name,
          deliverable: r.deliverable,
          acceptanceCriteria: r.acceptanceCriteria,
          [r.by]: r.share,
          plannedDate: r.plannedDate,
          ...(r.triggerStage ? { triggerStage: r.triggerStage } : {}),
          ...(r.paymentTerms ? { paymentTerms: r.paymentTerms } : {}),
        })),
      });
      await props.onChanged('The schedule is saved.');
    } catch (error) {
      if (error instanceof Refusal) setRefusal(error);
    }
  };
  const edit = (i: number, field: keyof Row, value: string) =>
    setRows((current) => current?.map((r, j) => (j === i ? { ...r, [field]: value } : r)));
  const about = (path: string) => fieldError(refusal, path);

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
        {chosen?.triggerStages.length ? (
          <Checkbox name="useTriggerStages" checked={useStages} onChange={(checked) => setUseStages(checked)}>
            {`Accept milestones when the deal reaches ${chosen.triggerStages.map((s) => `"${s}"`).join(', ')}`}
          </Checkbox>
        ) : null}
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
  const allocation = allocationMessage(rows.map((r) => ({ percent: percentOf(r, dealAmount) })));
  const currency = card.deal?.amount?.currency ?? '';
  return (
    <Flex direction="column" gap="sm">
      <Heading>New schedule</Heading>
      <Flex direction="row" gap="xs" wrap="wrap">
        <Select
          label="Payment terms"
          name="paymentTerms"
          value={terms}
          options={TERMS}
          onChange={(value) => setTerms(String(value))}
          {...about('paymentTerms')}
        />
        <Input
          label="Retainage held back (%)"
          name="retainagePercent"
          value={retainage}
          onInput={setRetainage}
          {...about('retainagePercent')}
        />
      </Flex>
      {rows.map((row, i) => {
        const at = `milestones[${i}]`;
        const field = (
          name: 'name' | 'deliverable' | 'acceptanceCriteria' | 'plannedDate',
          label: string,
        ) => (
          <Input
            key={name}
            label={label}
            name={`${at}.${name}`}
            value={row[name]}
            onInput={(value) => edit(i, name, value)}
            {...about(`${at}.${name}`)}
          />
        );
        return (
          // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity before they are saved
          <Flex key={i} direction="row" gap="xs" wrap="wrap">
            {field('name', 'Milestone')}
            {field('deliverable', 'Deliverable')}
            {field('acceptanceCriteria', 'Acceptance criteria')}
            <Select
              label="Share by"
              name={`${at}.by`}
              value={row.by}
              options={[
                { label: '% of the contract', value: 'percent' },
                { label: `Amount (${currency})`, value: 'amount' },
              ]}
              onChange={(value) => edit(i, 'by', value === 'amount' ? 'amount' : 'percent')}
            />
            <Input
              label={row.by === 'percent' ? 'Share (%)' : `Amount (${currency})`}
              name={`${at}.${row.by}`}
              value={row.share}
              onInput={(value) => edit(i, 'share', value)}
              {...about(`${at}.${row.by}`)}
            />
            {field('plannedDate', 'Planned date (YYYY-MM-DD)')}
            <Select
              label="Accepted when the deal reaches"
              name={`${at}.triggerStage`}
              value={row.triggerStage}
              options={[
                { label: 'No stage (acceptance recorded)', value: NO_STAGE },
                ...card.stages.map((s) => ({ label: s.label, value: s.id })),
              ]}
              onChange={(value) => edit(i, 'triggerStage', String(value ?? ''))}
              {...about(`${at}.triggerStage`)}
            />
            <Select
              label="Payment terms"
              name={`${at}.paymentTerms`}
              value={row.paymentTerms}
              options={[{ label: "The schedule's terms", value: DEAL_TERMS }, ...TERMS]}
              onChange={(value) => edit(i, 'paymentTerms', String(value ?? ''))}
            />
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
