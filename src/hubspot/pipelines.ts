import { z } from 'zod';
import { type Connection, type Portal, request, withHubSpot } from './client.ts';

/** A stage of a deal pipeline, as a person picks it: its id and the label they know it by. */
export interface DealStage {
  id: string;
  label: string;
}

const PipelineResponse = z.object({
  id: z.string(),
  label: z.string(),
  stages: z.array(
    z.object({
      id: z.string(),
      label: z.string(),
      displayOrder: z.number(),
      archived: z.boolean().optional(),
    }),
  ),
});

const PIPELINE_CACHE_S = 300;

/**
 * The stages of a deal pipeline in their order, kept five minutes per portal: every card opening
 * asks for them, and portals rename stages rarely.
 */
export async function dealStages(
  conn: Connection,
  portal: Portal,
  pipelineId: string,
  opts: { deadline?: number | undefined } = {},
): Promise<DealStage[]> {
  const key = `hubspot:pipeline:${portal.tenantId}:${pipelineId}`;
  const hit = await conn.redis.get(key);
  if (hit) return JSON.parse(hit) as DealStage[];
  const pipeline = await withHubSpot(
    conn,
    portal,
    (client) =>
      request(
        client,
        { method: 'GET', path: `/crm/pipelines/2026-03/0-3/${encodeURIComponent(pipelineId)}` },
        PipelineResponse,
      ),
    { safeToRepeat: true, deadline: opts.deadline },
  );
  const stages = pipeline.stages
    .filter((s) => !s.archived)
    .sort((a, b) => a.displayOrder - b.displayOrder)
    .map((s) => ({ id: s.id, label: s.label }));
  await conn.redis.set(key, JSON.stringify(stages), 'EX', PIPELINE_CACHE_S);
  return stages;
}
