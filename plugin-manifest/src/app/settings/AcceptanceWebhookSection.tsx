import { Button, Flex, Heading, Input, Text, TextArea } from '@hubspot/ui-extensions';
import { useEffect, useState } from 'react';
import { type CardApi, Refusal } from '../cards/api.ts';
import type { AcceptanceWebhook } from './types.ts';

/** Where e-signature tools and client portals report acceptances, and the secret they sign with. */
export function AcceptanceWebhookSection(props: { api: CardApi; onChanged: (what: string) => void }) {
  const { api } = props;
  const [webhook, setWebhook] = useState<AcceptanceWebhook | undefined>();
  const [secret, setSecret] = useState<string | undefined>();
  const [refusal, setRefusal] = useState<string | undefined>();

  useEffect(() => {
    api
      .get<AcceptanceWebhook>('/settings/acceptance-webhook')
      .then(setWebhook, (error: unknown) =>
        setRefusal(error instanceof Refusal ? error.message : String(error)),
      );
  }, [api]);

  const ask = async (what: 'reveal' | 'rotate') => {
    try {
      const answer = await api.post<{ secret: string }>(`/settings/acceptance-webhook/${what}`);
      setSecret(answer.secret);
      if (what === 'rotate')
        props.onChanged(
          'A new signing secret is in place: requests signed with the old one are refused from now on.',
        );
    } catch (error) {
      setRefusal(error instanceof Refusal ? error.message : String(error));
    }
  };

  return (
    <Flex direction="column" gap="sm">
      <Heading>Acceptance webhook</Heading>
      <Text>
        Tools that know when a client accepted a deliverable post it here, signed with the secret below; the
        milestone's invoice then goes to QuickBooks at once.
      </Text>
      {webhook ? <Input label="URL" name="webhook-url" value={webhook.url} readOnly /> : null}
      {secret ? (
        <Input testId="webhook-secret" label="Signing secret" name="webhook-secret" value={secret} readOnly />
      ) : null}
      <Flex gap="sm">
        <Button testId="reveal-secret" onClick={() => void ask('reveal')}>
          Reveal the signing secret
        </Button>
        <Button testId="rotate-secret" variant="destructive" onClick={() => void ask('rotate')}>
          Rotate the secret
        </Button>
      </Flex>
      {webhook ? (
        <TextArea
          label={`Example request (${webhook.signatureHeader}: HMAC-SHA256 of "<timestamp>.<body>"; set SECRET first)`}
          name="webhook-example"
          value={webhook.example}
          rows={6}
          readOnly
        />
      ) : null}
      {refusal ? <Text>{refusal}</Text> : null}
    </Flex>
  );
}
