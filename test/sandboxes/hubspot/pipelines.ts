import { Router } from 'express';
import { authed, hasScope, objectScope, requireBearer } from './auth.ts';
import type { SandboxContext } from './context.ts';
import { sendError, validationError } from './errors.ts';
import { resolveObjectType } from './state.ts';
import type { Pipeline } from './types.ts';

// HubSpot-defined pipelines report the account's creation time; a fixed value keeps output stable.
const CREATED_AT = '2019-08-06T02:41:08.000Z';

function presentPipeline(p: Pipeline) {
  return {
    id: p.id,
    label: p.label,
    displayOrder: p.displayOrder,
    stages: p.stages.map((s) => ({
      id: s.id,
      label: s.label,
      displayOrder: s.displayOrder,
      metadata: { ...s.metadata },
      createdAt: CREATED_AT,
      updatedAt: CREATED_AT,
      archived: false,
      writePermissions: 'CRUD_ALL',
    })),
    createdAt: CREATED_AT,
    updatedAt: CREATED_AT,
    archived: false,
  };
}

/** Deal pipelines only — the sandbox has no ticket objects. */
export function pipelinesRouter(ctx: SandboxContext): Router {
  const router = Router();
  const auth = requireBearer(ctx);

  router.get('/:type', auth, (req, res) => {
    if (resolveObjectType(String(req.params.type)) !== 'deals') {
      return validationError(res, `Unable to infer object type from: ${String(req.params.type)}`);
    }
    if (!hasScope(ctx, res, [objectScope('deals', 'read')])) return;
    res.json({ results: authed(res).portal.pipelines.map(presentPipeline) });
  });

  router.get('/:type/:pipelineId', auth, (req, res) => {
    if (resolveObjectType(String(req.params.type)) !== 'deals') {
      return validationError(res, `Unable to infer object type from: ${String(req.params.type)}`);
    }
    if (!hasScope(ctx, res, [objectScope('deals', 'read')])) return;
    const pipeline = authed(res).portal.pipelines.find((p) => p.id === req.params.pipelineId);
    if (!pipeline)
      return sendError(
        res,
        404,
        `Unable to find pipeline ${String(req.params.pipelineId)}`,
        'OBJECT_NOT_FOUND',
      );
    res.json(presentPipeline(pipeline));
  });

  router.get('/:type/:pipelineId/stages', auth, (req, res) => {
    if (resolveObjectType(String(req.params.type)) !== 'deals') {
      return validationError(res, `Unable to infer object type from: ${String(req.params.type)}`);
    }
    if (!hasScope(ctx, res, [objectScope('deals', 'read')])) return;
    const pipeline = authed(res).portal.pipelines.find((p) => p.id === req.params.pipelineId);
    if (!pipeline)
      return sendError(
        res,
        404,
        `Unable to find pipeline ${String(req.params.pipelineId)}`,
        'OBJECT_NOT_FOUND',
      );
    res.json({ results: presentPipeline(pipeline).stages });
  });

  return router;
}
