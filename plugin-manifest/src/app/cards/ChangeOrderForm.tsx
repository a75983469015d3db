import { Button, Checkbox, Flex, Form, Select, Text } from '@hubspot/ui-extensions';
import { useState } from 'react';
import { type CardApi, Refusal } from './api.ts';
import { Field } from './forms.tsx';
import type { Schedule, Stage } from './types.ts';

const NONE = '';
const open = (status: string) => status === 'planned' || status === 'disputed';

/**
 * A change order on an active schedule, with its reason: new scope as a new milestone, an open
 * milestone's amount, date or trigger stage changed, or an open milestone cancelled. What was
 * accepted or invoiced is locked and not offered.
 */
export function ChangeOrderForm(props: {
  api: CardApi;
  schedule: Schedule;
  stages: Stage[];
  onDone: (what: string) => Promise<void>;
}) {
  const { api, schedule } = props;
  const currency = schedule.contractValue.currency;
  const [reason, setReason] = useState('');
  const [contract, setContract] = useState('');
  const [row, setRow] = useState({
    name: '',
    deliverable: '',
    acceptanceCriteria: '',
    amount: '',
    plannedDate: '',
  });
  const [target, setTarget] = useState(NONE);
  const [change, setChange] = useState({ amount: '', plannedDate: '', triggerStage: NONE, cancel: false });
  const [refusal, setRefusal] = useState<Refusal | undefined>();
  const set = (field: keyof typeof row) => (value: string) => setRow((r) => ({ ...r, [field]: value }));
  const openOnes = schedule.milestones.filter((m) => open(m.status));

  const submit = async () => {
    const adding = Object.values(row).some(Boolean);
    const edits = {
      ...(change.amount ? { amount: change.amount } : {}),
      ...(change.plannedDate ? { plannedDate: change.plannedDate } : {}),
      ...(change.triggerStage ? { triggerStage: change.triggerStage } : {}),
    };
    try {
      await api.post(`/deals/${schedule.dealId}/schedule/change-orders`, {
        baseVersion: schedule.version,
        reason,
        ...(contract ? { contractValue: { amount: contract, currency } } : {}),
        ...(adding ? { add: [row] } : {}),
        ...(target && change.cancel ? { cancel: [target] } : {}),
        ...(target && !change.cancel && Object.keys(edits).length
          ? { change: [{ id: target, ...edits }] }
          : {}),
      });
      await props.onDone(`The change order "${reason}" is in the schedule.`);
    } catch (error) {
      if (error instanceof Refusal) setRefusal(error);
    }
  };

  return (
    <Form onSubmit={() => void submit()}>
      <Field label="Reason" name="reason" value={reason} refusal={refusal} onInput={setReason} />
      <Field
        label={`New contract value (${currency}; now ${schedule.contractValue.amount})`}
        name="contractValue.amount"
        value={contract}
        refusal={refusal}
        onInput={setContract}
      />
      <Text format={{ fontWeight: 'bold' }}>Add a milestone</Text>
      <Flex direction="row" gap="xs" wrap="wrap">
        <Field
          label="Milestone"
          name="add[0].name"
          value={row.name}
          refusal={refusal}
          onInput={set('name')}
        />
        <Field
          label="Deliverable"
          name="add[0].deliverable"
          value={row.deliverable}
          refusal={refusal}
          onInput={set('deliverable')}
        />
        <Field
          label="Acceptance criteria"
          name="add[0].acceptanceCriteria"
          value={row.acceptanceCriteria}
          refusal={refusal}
          onInput={set('acceptanceCriteria')}
        />
        <Field
          label={`Amount (${currency})`}
          name="add[0].amount"
          value={row.amount}
          refusal={refusal}
          onInput={set('amount')}
        />
        <Field
          label="Planned date (YYYY-MM-DD)"
          name="add[0].plannedDate"
          value={row.plannedDate}
          refusal={refusal}
          onInput={set('plannedDate')}
        />
      </Flex>
      {openOnes.length ? (
        <>
          <Text format={{ fontWeight: 'bold' }}>Change or cancel an open milestone</Text>
          <Flex direction="row" gap="xs" wrap="wrap">
            <Select
              label="Milestone"
              name="change.id"
              value={target}
              options={[
                { label: 'None', value: NONE },
                ...openOnes.map((m) => ({ label: `${m.name} (${m.amount.amount})`, value: m.id })),
              ]}
              onChange={(value) => setTarget(String(value ?? ''))}
            />
            <Field
              label={`New amount (${currency})`}
              name="change[0].amount"
              value={change.amount}
              refusal={refusal}
              onInput={(amount) => setChange((c) => ({ ...c, amount }))}
            />
            <Field
              label="New planned date"
              name="change[0].plannedDate"
              value={change.plannedDate}
              refusal={refusal}
              onInput={(plannedDate) => setChange((c) => ({ ...c, plannedDate }))}
            />
            <Select
              label="Accepted when the deal reaches"
              name="change[0].triggerStage"
              value={change.triggerStage}
              options={[
                { label: 'Unchanged', value: NONE },
                ...props.stages.map((s) => ({ label: s.label, value: s.id })),
              ]}
              onChange={(value) => setChange((c) => ({ ...c, triggerStage: String(value ?? '') }))}
            />
            <Checkbox
              name="change.cancel"
              checked={change.cancel}
              onChange={(cancel) => setChange((c) => ({ ...c, cancel }))}
            >
              Cancel this milestone
            </Checkbox>
          </Flex>
        </>
      ) : null}
      {refusal ? <Text testId="refusal">{refusal.message}</Text> : null}
      <Button testId="submit-change-order" variant="primary" type="submit" onClick={() => void submit()}>
        Submit the change order
      </Button>
    </Form>
  );
}
