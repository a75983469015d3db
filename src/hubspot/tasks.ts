import { AssociationTypes } from '@hubspot/api-client';
import { z } from 'zod';
import { type Connection, type Portal, request, withHubSpot } from './client.ts';

export interface TaskRequest {
  dealId: string;
  /** The deal owner, who gets the task; unassigned when the deal has none. */
  ownerId: string | null;
  subject: string;
  /** HTML. */
  body: string;
  dueAt: Date;
}

const Created = z.object({ id: z.string() });

/** A to-do on the deal for a person (HubSpot's tasks are engagements, like notes). */
export function createTask(deps: Connection, portal: Portal, task: TaskRequest): Promise<string> {
  return withHubSpot(
    deps,
    portal,
    async (client) =>
      (
        await request(
          client,
          {
            method: 'POST',
            path: '/crm/objects/2026-03/tasks',
            body: {
              properties: {
                hs_timestamp: task.dueAt.toISOString(),
                hs_task_subject: task.subject,
                hs_task_body: task.body,
                hs_task_status: 'NOT_STARTED',
                hs_task_priority: 'HIGH',
                hs_task_type: 'TODO',
                ...(task.ownerId ? { hubspot_owner_id: task.ownerId } : {}),
              },
              associations: [
                {
                  to: { id: task.dealId },
                  types: [
                    {
                      associationCategory: 'HUBSPOT_DEFINED',
                      associationTypeId: AssociationTypes.taskToDeal,
                    },
                  ],
                },
              ],
            },
          },
          Created,
        )
      ).id,
    // A second create would be a second task for the same reminder.
    { safeToRepeat: false, background: true },
  );
}
