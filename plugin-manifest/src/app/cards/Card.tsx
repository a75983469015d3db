import { Alert, Button, ErrorState, Flex, LoadingSpinner, Text } from '@hubspot/ui-extensions';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { cardApi, Refusal } from './api.ts';
import { NoSchedule } from './NoSchedule.tsx';
import { PortfolioLink } from './PortfolioLink.tsx';
import { ScheduleView } from './ScheduleView.tsx';
import type { DealCard } from './types.ts';

/** The deal's billing schedule in HubSpot: what it holds, what needs a person, and the editing. */
export function Card({ dealId }: { dealId: string }) {
  const api = useMemo(() => cardApi(), []);
  const [card, setCard] = useState<DealCard | undefined>();
  const [failure, setFailure] = useState<string | undefined>();
  const [note, setNote] = useState<string | undefined>();

  const load = useCallback(async () => {
    try {
      setCard(await api.get<DealCard>(`/deals/${dealId}/card`));
      setFailure(undefined);
    } catch (error) {
      setFailure(
        error instanceof Refusal ? error.message : 'The billing app did not answer; try again shortly.',
      );
    }
  }, [api, dealId]);
  useEffect(() => {
    void load();
  }, [load]);

  /** A change went through: say so, and show the deal as it now stands. */
  const changed = useCallback(
    async (what: string) => {
      setNote(what);
      await load();
    },
    [load],
  );

  const retry = async (milestoneId: string) => {
    try {
      await api.post(`/milestones/${milestoneId}/retry-invoice`);
      await changed('The invoice is on its way to QuickBooks again.');
    } catch (error) {
      setNote(error instanceof Refusal ? error.message : String(error));
    }
  };

  if (failure)
    return <ErrorState title="The billing schedule could not be loaded">{<Text>{failure}</Text>}</ErrorState>;
  if (!card) return <LoadingSpinner label="Loading the billing schedule" />;
  return (
    <Flex direction="column" gap="md">
      {card.attention.map((a) => (
        <Alert
          key={`${a.code}:${a.milestoneId ?? ''}`}
          title={a.code === 'invoice_failed' ? 'Invoice refused' : 'Needs attention'}
          variant={a.code === 'invoice_failed' || a.code.startsWith('quickbooks_') ? 'danger' : 'warning'}
        >
          <Text>{a.message}</Text>
          {a.code === 'invoice_failed' && a.milestoneId ? (
            <Button testId={`retry-${a.milestoneId}`} onClick={() => void retry(a.milestoneId!)}>
              Retry
            </Button>
          ) : null}
        </Alert>
      ))}
      {note ? (
        <Alert title="Done" variant="success">
          {note}
        </Alert>
      ) : null}
      {card.schedule ? (
        <ScheduleView api={api} card={card} schedule={card.schedule} onChanged={changed} />
      ) : (
        <NoSchedule api={api} card={card} dealId={dealId} onChanged={changed} />
      )}
      <PortfolioLink api={api} />
    </Flex>
  );
}
