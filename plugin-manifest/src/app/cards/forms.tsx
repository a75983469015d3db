import { Button, Flex, Form, Heading, Input, Select, Text, TextArea } from '@hubspot/ui-extensions';
import { useState } from 'react';
import { type CardApi, fieldError, Refusal } from './api.ts';
import type { Milestone } from './types.ts';

/** An input whose refusal by the backend shows next to it. */
export function Field(props: {
  label: string;
  name: string;
  value: string;
  refusal: Refusal | undefined;
  onInput: (value: string) => void;
  multiline?: boolean;
}) {
  const common = {
    label: props.label,
    name: props.name,
    value: props.value,
    onInput: props.onInput,
    ...fieldError(props.refusal, props.name),
  };
  return props.multiline ? <TextArea {...common} /> : <Input {...common} />;
}

/** Records a client's acceptance: all of the milestone, or a part of it by percent or amount. */
export function AcceptanceForm(props: {
  api: CardApi;
  milestone: Milestone;
  onDone: (what: string) => Promise<void>;
}) {
  const { api, milestone } = props;
  const [kind, setKind] = useState<'percent' | 'amount'>('percent');
  const [portion, setPortion] = useState('100');
  const [acceptedBy, setAcceptedBy] = useState('');
  const [evidence, setEvidence] = useState('');
  const [note, setNote] = useState('');
  const [refusal, setRefusal] = useState<Refusal | undefined>();
  const submit = async () => {
    try {
      await api.post(`/milestones/${milestone.id}/acceptances`, {
        portion: kind === 'percent' ? { percent: portion } : { amount: portion },
        ...(acceptedBy ? { acceptedBy: { name: acceptedBy } } : {}),
        ...(evidence ? { evidence: [{ name: 'Evidence', url: evidence }] } : {}),
        ...(note ? { note } : {}),
      });
      await props.onDone(`"${milestone.name}" is accepted; its invoice is on its way to QuickBooks.`);
    } catch (error) {
      if (error instanceof Refusal) setRefusal(error);
    }
  };
  return (
    <Form onSubmit={() => void submit()}>
      <Heading>{`Accept "${milestone.name}"`}</Heading>
      <Flex direction="row" gap="xs" wrap="wrap">
        <Select
          label="Portion"
          name="kind"
          value={kind}
          options={[
            { label: 'Percent of the milestone', value: 'percent' },
            { label: `Amount (${milestone.amount.currency})`, value: 'amount' },
          ]}
          onChange={(value) => setKind(value === 'amount' ? 'amount' : 'percent')}
        />
        <Field
          label="Portion"
          name={`portion.${kind}`}
          value={portion}
          refusal={refusal}
          onInput={setPortion}
        />
        <Field
          label="Accepted by"
          name="acceptedBy.name"
          value={acceptedBy}
          refusal={refusal}
          onInput={setAcceptedBy}
        />
        <Field
          label="Evidence link"
          name="evidence[0].url"
          value={evidence}
          refusal={refusal}
          onInput={setEvidence}
        />
      </Flex>
      <Field label="Note" name="note" value={note} refusal={refusal} onInput={setNote} multiline />
      {refusal ? <Text testId="refusal">{refusal.message}</Text> : null}
      <Button testId="record-acceptance" variant="primary" type="submit" onClick={() => void submit()}>
        Record acceptance
      </Button>
    </Form>
  );
}

/** The client contests a deliverable (or the dispute is settled): the reason goes in the history. */
export function DisputeForm(props: {
  api: CardApi;
  milestone: Milestone;
  resolve: boolean;
  onDone: (what: string) => Promise<void>;
}) {
  const { api, milestone, resolve } = props;
  const [reason, setReason] = useState('');
  const [refusal, setRefusal] = useState<Refusal | undefined>();
  const submit = async () => {
    try {
      await api.post(`/milestones/${milestone.id}/${resolve ? 'resolve' : 'dispute'}`, {
        ...(reason || !resolve ? { reason } : {}),
      });
      await props.onDone(
        resolve ? `"${milestone.name}" is no longer disputed.` : `"${milestone.name}" is disputed.`,
      );
    } catch (error) {
      if (error instanceof Refusal) setRefusal(error);
    }
  };
  return (
    <Form onSubmit={() => void submit()}>
      <Heading>
        {resolve ? `Resolve the dispute of "${milestone.name}"` : `Dispute "${milestone.name}"`}
      </Heading>
      <Field
        label={resolve ? 'How it was settled (optional)' : 'What the client contests'}
        name="reason"
        value={reason}
        refusal={refusal}
        onInput={setReason}
      />
      {refusal && !refusal.issues.length ? <Text testId="refusal">{refusal.message}</Text> : null}
      <Button testId="submit-dispute" variant="primary" type="submit" onClick={() => void submit()}>
        {resolve ? 'Resolve' : 'Record the dispute'}
      </Button>
    </Form>
  );
}
