import {
  Button,
  Flex,
  Heading,
  Link,
  Statistics,
  StatisticsItem,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
  Tag,
  Text,
} from '@hubspot/ui-extensions';
import { useState } from 'react';
import type { CardApi } from './api.ts';
import { ChangeOrderForm } from './ChangeOrderForm.tsx';
import { AcceptanceForm, DisputeForm } from './forms.tsx';
import { History } from './History.tsx';
import { termsLabel } from './terms.ts';
import type { DealCard, Milestone, Money, Schedule } from './types.ts';

const money = (m: Money) => `${m.currency} ${m.amount}`;

const TAGS: Record<string, 'default' | 'success' | 'warning' | 'error' | 'info'> = {
  planned: 'default',
  accepted: 'info',
  invoicing: 'info',
  invoiced: 'success',
  partially_paid: 'success',
  paid: 'success',
  invoice_failed: 'error',
  disputed: 'warning',
};

/** Milestones nothing was accepted of yet may still change; the others are locked. */
const locked = (m: Milestone) => m.status !== 'planned' && m.status !== 'disputed';

/** The schedule: its totals, a row a milestone, and the forms that change it. */
export function ScheduleView(props: {
  api: CardApi;
  card: DealCard;
  schedule: Schedule;
  onChanged: (what: string) => Promise<void>;
}) {
  const { api, card, schedule } = props;
  const [accepting, setAccepting] = useState<Milestone | undefined>();
  const [criteria, setCriteria] = useState<Milestone | undefined>();
  const [disputing, setDisputing] = useState<Milestone | undefined>();
  const [history, setHistory] = useState<Milestone | undefined>();
  const [changing, setChanging] = useState(false);
  const stageLabel = (id: string | null) => card.stages.find((s) => s.id === id)?.label ?? id;
  const frozen = schedule.state === 'frozen';
  const done = async (what: string) => {
    setAccepting(undefined);
    setDisputing(undefined);
    setHistory(undefined);
    setChanging(false);
    await props.onChanged(what);
  };

  return (
    <Flex direction="column" gap="md">
      <Statistics>
        <StatisticsItem label="Contract" number={money(schedule.contractValue)} />
        <StatisticsItem label="Scheduled" number={money(schedule.totals.scheduled)} />
        <StatisticsItem label="Invoiced" number={money(schedule.totals.invoiced)} />
        <StatisticsItem label="Paid" number={money(card.received.paid)} />
        <StatisticsItem label="Outstanding" number={money(card.received.outstanding)} />
        {Number(card.received.overdue.amount) > 0 ? (
          <StatisticsItem label="Overdue" number={money(card.received.overdue)} />
        ) : null}
        <StatisticsItem label="Earned, not invoiced" number={money(schedule.totals.earnedNotInvoiced)} />
      </Statistics>
      <Text variant="microcopy">
        {`Payment terms ${termsLabel(schedule.paymentTerms)}${
          schedule.retainagePercent !== '0' ? `; ${schedule.retainagePercent} % retainage held back` : ''
        }`}
      </Text>
      <Table>
        <TableHead>
          <TableRow>
            <TableHeader>Milestone</TableHeader>
            <TableHeader>Deliverable</TableHeader>
            <TableHeader>Amount</TableHeader>
            <TableHeader>Planned</TableHeader>
            <TableHeader>Status</TableHeader>
            <TableHeader>Invoice</TableHeader>
            <TableHeader>Paid</TableHeader>
            <TableHeader> </TableHeader>
          </TableRow>
        </TableHead>
        <TableBody>
          {schedule.milestones.map((m) => {
            const invoice = card.invoices[m.id];
            return (
              <TableRow key={m.id}>
                <TableCell>{m.name}</TableCell>
                <TableCell>{m.deliverable}</TableCell>
                <TableCell>{money(m.amount)}</TableCell>
                <TableCell>{m.plannedDate}</TableCell>
                <TableCell>
                  <Tag testId={`status-${m.id}`} variant={TAGS[m.status] ?? 'default'}>
                    {m.status.replace('_', ' ')}
                  </Tag>
                  {locked(m) ? <Tag variant="default">locked</Tag> : null}
                </TableCell>
                <TableCell>
                  {invoice?.url ? (
                    <Link testId={`invoice-${m.id}`} href={invoice.url}>
                      {invoice.docNumber}
                    </Link>
                  ) : (
                    <Text>{invoice?.docNumber ?? ''}</Text>
                  )}
                </TableCell>
                <TableCell>
                  <Text testId={`paid-${m.id}`}>{invoice ? money(invoice.paid) : ''}</Text>
                  {invoice?.overdue ? <Tag variant="error">{`overdue since ${invoice.dueDate}`}</Tag> : null}
                </TableCell>
                <TableCell>
                  <Flex gap="xs">
                    <Button
                      testId={`criteria-${m.id}`}
                      size="xs"
                      variant="transparent"
                      onClick={() => setCriteria(m)}
                    >
                      Criteria
                    </Button>
                    {m.status === 'planned' && !frozen ? (
                      <Button testId={`accept-${m.id}`} size="xs" onClick={() => setAccepting(m)}>
                        Accept
                      </Button>
                    ) : null}
                    {(m.status === 'planned' || m.status === 'disputed') && !frozen ? (
                      <Button testId={`dispute-${m.id}`} size="xs" onClick={() => setDisputing(m)}>
                        {m.status === 'disputed' ? 'Resolve' : 'Dispute'}
                      </Button>
                    ) : null}
                    <Button
                      testId={`history-${m.id}`}
                      size="xs"
                      variant="transparent"
                      onClick={() => setHistory(m)}
                    >
                      History
                    </Button>
                  </Flex>
                </TableCell>
              </TableRow>
            );
          })}
        </TableBody>
      </Table>
      {criteria ? (
        <Text testId="criteria">
          {[
            `Acceptance criteria of "${criteria.name}": ${criteria.acceptanceCriteria}`,
            criteria.triggerStage
              ? `accepted when the deal reaches "${stageLabel(criteria.triggerStage)}"`
              : '',
            criteria.paymentTerms ? `payment terms ${termsLabel(criteria.paymentTerms)}` : '',
          ]
            .filter(Boolean)
            .join('; ')}
        </Text>
      ) : null}
      {accepting ? <AcceptanceForm api={api} milestone={accepting} onDone={done} /> : null}
      {disputing ? (
        <DisputeForm
          key={disputing.id}
          api={api}
          milestone={disputing}
          resolve={disputing.status === 'disputed'}
          onDone={done}
        />
      ) : null}
      {history ? <History key={history.id} api={api} milestone={history} /> : null}
      {!frozen && !changing ? (
        <Button testId="change-order" onClick={() => setChanging(true)}>
          Change order
        </Button>
      ) : null}
      {changing ? (
        <Flex direction="column" gap="sm">
          <Heading>Change order</Heading>
          <Text>Accepted and invoiced milestones are locked; open ones can change or be cancelled.</Text>
          <ChangeOrderForm api={api} schedule={schedule} stages={card.stages} onDone={done} />
        </Flex>
      ) : null}
    </Flex>
  );
}
