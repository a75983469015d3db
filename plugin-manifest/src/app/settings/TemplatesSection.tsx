import {
  Button,
  Flex,
  Heading,
  Input,
  Select,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
  Text,
} from '@hubspot/ui-extensions';
import { useCallback, useEffect, useState } from 'react';
import { allocationMessage } from '../cards/allocation.ts';
import { asRefusal, type CardApi, fieldError, Refusal } from '../cards/api.ts';
import { TERMS, type Template } from './types.ts';

interface Row {
  name: string;
  deliverable: string;
  acceptanceCriteria: string;
  percent: string;
  offsetDays: string;
  triggerStageLabel: string;
}

interface Draft {
  editing: string | null;
  key: string;
  name: string;
  paymentTerms: string;
  rows: Row[];
}

const emptyRow = (): Row => ({
  name: '',
  deliverable: '',
  acceptanceCriteria: '',
  percent: '',
  offsetDays: '',
  triggerStageLabel: '',
});

const draftOf = (t: Template): Draft => ({
  editing: t.key,
  key: t.key,
  name: t.name,
  paymentTerms: typeof t.paymentTerms === 'string' ? t.paymentTerms : 'net_30',
  rows: t.milestones.map((m) => ({
    ...m,
    offsetDays: String(m.offsetDays),
    triggerStageLabel: m.triggerStageLabel ?? '',
  })),
});

/** The tenant's own templates: made, edited and deleted here; built-in ones are listed to start from. */
export function TemplatesSection(props: { api: CardApi; onChanged: (what: string) => void }) {
  const { api } = props;
  const [templates, setTemplates] = useState<Template[]>([]);
  const [draft, setDraft] = useState<Draft | undefined>();
  const [refusal, setRefusal] = useState<Refusal | undefined>();

  const load = useCallback(async () => {
    setTemplates((await api.get<{ templates: Template[] }>('/templates')).templates);
  }, [api]);
  useEffect(() => {
    load().catch((error: unknown) => setRefusal(asRefusal(error)));
  }, [load]);

  const save = async () => {
    if (!draft) return;
    const template = {
      key: draft.key,
      name: draft.name,
      paymentTerms: draft.paymentTerms,
      milestones: draft.rows.map((r) => ({
        name: r.name,
        deliverable: r.deliverable,
        acceptanceCriteria: r.acceptanceCriteria,
        percent: r.percent,
        offsetDays: Number(r.offsetDays || 0),
        ...(r.triggerStageLabel ? { triggerStageLabel: r.triggerStageLabel } : {}),
      })),
    };
    try {
      if (draft.editing) await api.put(`/templates/${draft.editing}`, template);
      else await api.post('/templates', template);
      setDraft(undefined);
      setRefusal(undefined);
      props.onChanged(`The template "${template.name}" is saved.`);
      await load();
    } catch (error) {
      if (error instanceof Refusal) setRefusal(error);
    }
  };
  const remove = async (t: Template) => {
    try {
      await api.delete(`/templates/${t.key}`);
      props.onChanged(`The template "${t.name}" is deleted; schedules made from it keep their milestones.`);
      await load();
    } catch (error) {
      if (error instanceof Refusal) setRefusal(error);
    }
  };

  const field = (name: keyof Omit<Draft, 'rows' | 'editing'>, label: string) => (
    <Input
      label={label}
      name={name}
      value={draft?.[name] ?? ''}
      readOnly={name === 'key' && Boolean(draft?.editing)}
      onInput={(value) => setDraft((d) => d && { ...d, [name]: value })}
      {...fieldError(refusal, name)}
    />
  );
  const edit = (i: number, name: keyof Row, value: string) =>
    setDraft((d) => d && { ...d, rows: d.rows.map((r, j) => (j === i ? { ...r, [name]: value } : r)) });

  return (
    <Flex direction="column" gap="sm">
      <Heading>Templates</Heading>
      <Table>
        <TableHead>
          <TableRow>
            <TableHeader>Template</TableHeader>
            <TableHeader>Milestones</TableHeader>
            <TableHeader> </TableHeader>
          </TableRow>
        </TableHead>
        <TableBody>
          {templates.map((t) => (
            <TableRow key={t.key}>
              <TableCell>{t.builtIn ? `${t.name} (built in)` : t.name}</TableCell>
              <TableCell>{t.milestones.map((m) => `${m.name} ${m.percent} %`).join(', ')}</TableCell>
              <TableCell>
                {t.builtIn ? null : (
                  <Flex gap="xs">
                    <Button testId={`edit-template-${t.key}`} size="xs" onClick={() => setDraft(draftOf(t))}>
                      Edit
                    </Button>
                    <Button
                      testId={`delete-template-${t.key}`}
                      size="xs"
                      variant="destructive"
                      onClick={() => void remove(t)}
                    >
                      Delete
                    </Button>
                  </Flex>
                )}
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      {!draft ? (
        <Button
          testId="new-template"
          onClick={() =>
            setDraft({ editing: null, key: '', name: '', paymentTerms: 'net_30', rows: [emptyRow()] })
          }
        >
          New template
        </Button>
      ) : (
        <Flex direction="column" gap="sm">
          <Flex direction="row" gap="xs" wrap="wrap">
            {field('key', 'Key (lower-case, dashes)')}
            {field('name', 'Name')}
            <Select
              label="Payment terms"
              name="paymentTerms"
              value={draft.paymentTerms}
              options={TERMS}
              onChange={(value) => setDraft((d) => d && { ...d, paymentTerms: String(value) })}
            />
          </Flex>
          {draft.rows.map((row, i) => {
            const at = `milestones[${i}]`;
            const cell = (name: keyof Row, label: string) => (
              <Input
                key={name}
                label={label}
                name={`${at}.${name}`}
                value={row[name]}
                onInput={(value) => edit(i, name, value)}
                {...fieldError(refusal, `${at}.${name}`)}
              />
            );
            return (
              // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity before they are saved
              <Flex key={i} direction="row" gap="xs" wrap="wrap">
                {cell('name', 'Milestone')}
                {cell('deliverable', 'Deliverable')}
                {cell('acceptanceCriteria', 'Acceptance criteria')}
                {cell('percent', 'Share (%)')}
                {cell('offsetDays', 'Days after start')}
                {cell('triggerStageLabel', 'Accepted at deal stage (label, optional)')}
              </Flex>
            );
          })}
          <Text testId="template-allocation">{allocationMessage(draft.rows).text}</Text>
          {refusal && (!refusal.issues.length || refusal.about('milestones')) ? (
            <Text testId="template-refusal">{refusal.message}</Text>
          ) : null}
          <Flex gap="sm">
            <Button
              testId="template-add-row"
              onClick={() => setDraft((d) => d && { ...d, rows: [...d.rows, emptyRow()] })}
            >
              Add a milestone
            </Button>
            <Button
              testId="save-template"
              variant="primary"
              disabled={allocationMessage(draft.rows).over}
              onClick={() => void save()}
            >
              Save template
            </Button>
            <Button variant="transparent" onClick={() => setDraft(undefined)}>
              Cancel
            </Button>
          </Flex>
        </Flex>
      )}
    </Flex>
  );
}
