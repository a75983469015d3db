import { Button, Flex, Text } from '@hubspot/ui-extensions';
import { useState } from 'react';
import { type CardApi, Refusal } from './api.ts';

/**
 * "Open portfolio": the app's pages across all deals, in a new window signed in by a single-use
 * link (no password of the app's own; `hubspot.fetch` carries no cookie to start it).
 */
export function PortfolioLink({ api }: { api: CardApi }) {
  const [link, setLink] = useState<string | undefined>();
  const [refusal, setRefusal] = useState<string | undefined>();
  const mint = async () => {
    try {
      setLink((await api.post<{ url: string }>('/portfolio-link')).url);
    } catch (error) {
      setRefusal(error instanceof Refusal ? error.message : String(error));
    }
  };
  return (
    <Flex gap="sm" align="center">
      {link ? (
        <Button testId="portfolio-open" href={{ url: link, external: true }}>
          Continue to the portfolio (new window)
        </Button>
      ) : (
        <Button testId="portfolio-link" variant="transparent" onClick={() => void mint()}>
          Open portfolio
        </Button>
      )}
      {refusal ? <Text>{refusal}</Text> : null}
    </Flex>
  );
}
