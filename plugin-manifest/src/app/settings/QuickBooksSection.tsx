import { Button, Flex, Heading, Tag, Text } from '@hubspot/ui-extensions';
import { useState } from 'react';
import { type CardApi, Refusal } from '../cards/api.ts';
import type { QuickBooksConnection } from './types.ts';

const STATE = {
  connected: { label: 'connected', variant: 'success' },
  needs_reconnect: { label: 'needs reconnect', variant: 'error' },
  not_connected: { label: 'not connected', variant: 'warning' },
} as const;

/**
 * Connect, reconnect, disconnect. Intuit's consent page runs in a new window, opened from a
 * single-use link that signs that window in: `hubspot.fetch` carries no cookie to start it.
 */
export function QuickBooksSection(props: {
  api: CardApi;
  connection: QuickBooksConnection;
  onChanged: (what: string) => Promise<void>;
  onRefresh: () => Promise<void>;
}) {
  const { api, connection } = props;
  const [link, setLink] = useState<{ url: string; expiresAt: string } | undefined>();
  const [refusal, setRefusal] = useState<string | undefined>();
  const state = STATE[connection.state];

  const mint = async () => {
    try {
      setLink(await api.post<{ url: string; expiresAt: string }>('/settings/quickbooks/connect-link'));
    } catch (error) {
      setRefusal(error instanceof Refusal ? error.message : String(error));
    }
  };
  const disconnect = async () => {
    try {
      await api.post('/settings/quickbooks/disconnect');
      setLink(undefined);
      await props.onChanged('QuickBooks is disconnected: no invoice goes to it until you connect again.');
    } catch (error) {
      setRefusal(error instanceof Refusal ? error.message : String(error));
    }
  };

  return (
    <Flex direction="column" gap="sm">
      <Heading>QuickBooks Online</Heading>
      <Flex gap="xs" align="center">
        <Tag testId="quickbooks-state" variant={state.variant}>
          {state.label}
        </Tag>
        {connection.realmId ? (
          <Text testId="quickbooks-company">
            {`${connection.companyName ?? 'Company'} (company ${connection.realmId})`}
          </Text>
        ) : (
          <Text>Accepted milestones wait, and are invoiced once a company is connected.</Text>
        )}
      </Flex>
      {connection.state === 'needs_reconnect' ? (
        <Text>QuickBooks refused the stored authorisation: reconnect to resume invoicing.</Text>
      ) : null}
      <Flex gap="sm">
        <Button testId="quickbooks-connect" variant="primary" onClick={() => void mint()}>
          {connection.state === 'not_connected' ? 'Connect QuickBooks' : 'Reconnect QuickBooks'}
        </Button>
        {connection.state !== 'not_connected' ? (
          <Button testId="quickbooks-disconnect" variant="destructive" onClick={() => void disconnect()}>
            Disconnect
          </Button>
        ) : null}
        <Button testId="quickbooks-refresh" variant="transparent" onClick={() => void props.onRefresh()}>
          Refresh
        </Button>
      </Flex>
      {link ? (
        <Flex direction="column" gap="xs">
          <Button testId="quickbooks-open" href={{ url: link.url, external: true }}>
            Continue to QuickBooks (new window)
          </Button>
          <Text variant="microcopy">
            {`The link works once, until ${link.expiresAt.slice(11, 16)} UTC. When Intuit says the company is connected, come back and choose Refresh.`}
          </Text>
        </Flex>
      ) : null}
      {refusal ? <Text testId="quickbooks-refusal">{refusal}</Text> : null}
    </Flex>
  );
}
