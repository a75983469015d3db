import { Heading, List, Text } from '@hubspot/ui-extensions';
import { useEffect, useState } from 'react';
import { type CardApi, Refusal } from './api.ts';
import type { Milestone, Transition } from './types.ts';

/** Who (the HubSpot user, a webhook, the app) did what to a milestone, and why. */
function line(t: Transition): string {
  const when = t.at.slice(0, 16).replace('T', ' ');
  const change = t.from ? `${t.from} → ${t.to}` : t.to;
  return `${when} UTC · ${change} (${t.event.replace(/_/g, ' ')}) by ${t.actor}${t.reason ? `: ${t.reason}` : ''}`;
}

export function History({ api, milestone }: { api: CardApi; milestone: Milestone }) {
  const [transitions, setTransitions] = useState<Transition[] | undefined>();
  const [failure, setFailure] = useState<string | undefined>();
  useEffect(() => {
    api
      .get<{ transitions: Transition[] }>(`/milestones/${milestone.id}/history`)
      .then((h) => setTransitions(h.transitions))
      .catch((error: unknown) => setFailure(error instanceof Refusal ? error.message : String(error)));
  }, [api, milestone.id]);
  return (
    <>
      <Heading>{`History of "${milestone.name}"`}</Heading>
      {failure ? <Text>{failure}</Text> : null}
      {transitions ? (
        <List testId="history" variant="unordered">
          {transitions.map((t) => (
            <Text key={`${t.at}:${t.event}:${t.to}`}>{line(t)}</Text>
          ))}
        </List>
      ) : null}
    </>
  );
}
