import { Alert, Divider, ErrorState, Flex, LoadingSpinner, Text } from '@hubspot/ui-extensions';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { cardApi, Refusal } from '../cards/api.ts';
import { PortfolioLink } from '../cards/PortfolioLink.tsx';
import { AcceptanceWebhookSection } from './AcceptanceWebhookSection.tsx';
import { ApiKeysSection } from './ApiKeysSection.tsx';
import { AppManagersSection } from './AppManagersSection.tsx';
import { InvoiceDefaultsSection } from './InvoiceDefaultsSection.tsx';
import { QuickBooksSection } from './QuickBooksSection.tsx';
import { RemindersSection } from './RemindersSection.tsx';
import { ShareLinksSection } from './ShareLinksSection.tsx';
import { TemplatesSection } from './TemplatesSection.tsx';
import type { SettingsOverview } from './types.ts';

/**
 * The app's settings page in HubSpot: the QuickBooks connection, invoice defaults, templates, the
 * acceptance webhook, API keys and bookkeepers' read-only share links. Only the portal's super admins
 * (and roles an admin named) get past the backend, which asks HubSpot.
 */
export function Settings() {
  const api = useMemo(() => cardApi(), []);
  const [overview, setOverview] = useState<SettingsOverview | undefined>();
  const [failure, setFailure] = useState<string | undefined>();
  const [note, setNote] = useState<string | undefined>();

  const load = useCallback(async () => {
    try {
      setOverview(await api.get<SettingsOverview>('/settings'));
      setFailure(undefined);
    } catch (error) {
      setFailure(
        error instanceof Refusal ? error.message : 'The billing app did not answer; try again shortly.',
      );
    }
  }, [api]);
  useEffect(() => {
    void load();
  }, [load]);

  const changed = useCallback(
    async (what: string) => {
      setNote(what);
      await load();
    },
    [load],
  );

  if (failure)
    return (
      <ErrorState title="The settings could not be loaded">
        <Text>{failure}</Text>
      </ErrorState>
    );
  if (!overview) return <LoadingSpinner label="Loading the settings" />;
  return (
    <Flex direction="column" gap="md">
      {note ? (
        <Alert title="Saved" variant="success">
          {note}
        </Alert>
      ) : null}
      <PortfolioLink api={api} />
      <QuickBooksSection api={api} connection={overview.quickbooks} onChanged={changed} onRefresh={load} />
      <Divider />
      <InvoiceDefaultsSection
        api={api}
        defaults={overview.invoiceDefaults}
        connected={overview.quickbooks.state === 'connected'}
        onChanged={changed}
      />
      <Divider />
      <RemindersSection api={api} policy={overview.reminders} onChanged={changed} />
      <Divider />
      <TemplatesSection api={api} onChanged={setNote} />
      <Divider />
      <AcceptanceWebhookSection api={api} onChanged={setNote} />
      <Divider />
      <ApiKeysSection api={api} onChanged={setNote} />
      <Divider />
      <ShareLinksSection api={api} onChanged={setNote} />
      <Divider />
      <AppManagersSection api={api} onChanged={setNote} />
    </Flex>
  );
}
