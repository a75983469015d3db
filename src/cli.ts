import { parseArgs } from 'node:util';
import { failedPushes } from './billing/ledger.ts';
import { reconcileCompany } from './billing/reconcile.ts';
import { retryInvoice } from './billing/retry.ts';
import { loadConfig, startRuntime } from './runtime.ts';
import { getSchedule } from './schedules/service.ts';
import { rekey } from './tenants/rekey.ts';
import {
  acceptanceSecret,
  createApiKey,
  ensureTenant,
  requireTenantByPortal,
  rotateAcceptanceSecret,
} from './tenants/repository.ts';

const USAGE = `Usage: npm run cli -- <command> [options]

  tenant create --portal <id> [--name <name>]   create the tenant of a HubSpot portal
  api-key create --portal <id> [--name <name>]  issue an API key (shown once)
  secret show --portal <id>                     show the acceptance webhook signing secret
  secret rotate --portal <id>                   replace it; the old one stops working
  schedule show --portal <id> --deal <id>       print a deal's billing schedule as JSON
  push list-failed --portal <id>                invoices QuickBooks refused, with its reason
  push retry --portal <id> --milestone <id>     push a refused invoice again after fixing the cause
  reconcile --portal <id>                       read the QuickBooks company's changes now (lost webhooks)
  rekey                                         re-seal stored tokens and secrets with ENCRYPTION_KEY
                                                (after rotating it; ENCRYPTION_KEY_PREVIOUS opens the old)`;

function parse() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        portal: { type: 'string' },
        name: { type: 'string' },
        deal: { type: 'string' },
        milestone: { type: 'string' },
        help: { type: 'boolean' },
      },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
}
const { positionals, values } = parse();

const command = positionals.join(' ');
if (values.help || !command) {
  console.log(USAGE);
  process.exit(values.help ? 0 : 2);
}

function need(name: 'portal' | 'deal' | 'milestone'): string {
  const value = values[name];
  if (!value) {
    console.error(`${command}: --${name} is required\n\n${USAGE}`);
    process.exit(2);
  }
  return value;
}

const runtime = await startRuntime(loadConfig({ LOG_LEVEL: 'warn', ...process.env }));
const { db } = runtime.database;
const key = runtime.encryptionKey;
try {
  switch (command) {
    case 'tenant create': {
      const portal = need('portal');
      const { tenant, created } = await ensureTenant(
        db,
        key,
        portal,
        values.name ?? `HubSpot portal ${portal}`,
      );
      console.log(
        created
          ? `created tenant ${tenant.id} for portal ${portal}`
          : `portal ${portal} already has tenant ${tenant.id}`,
      );
      break;
    }
    case 'api-key create': {
      const tenant = await requireTenantByPortal(db, need('portal'));
      const { id, key: apiKey } = await createApiKey(db, tenant.id, values.name ?? 'cli');
      console.log(`API key ${id} (shown once, store it now):\n${apiKey}`);
      break;
    }
    case 'secret show':
      console.log(acceptanceSecret(key, await requireTenantByPortal(db, need('portal'))));
      break;
    case 'secret rotate':
      console.log(await rotateAcceptanceSecret(db, key, await requireTenantByPortal(db, need('portal'))));
      break;
    case 'schedule show': {
      const tenant = await requireTenantByPortal(db, need('portal'));
      console.log(JSON.stringify(await getSchedule({ db, tenant, actor: 'cli' }, need('deal')), null, 2));
      break;
    }
    case 'push list-failed': {
      const tenant = await requireTenantByPortal(db, need('portal'));
      const failed = await failedPushes(db, tenant.id);
      if (failed.length === 0) console.log('no failed pushes');
      for (const f of failed) console.log(`${f.milestoneId}  ${f.docNumber}  ${f.error}`);
      break;
    }
    case 'push retry': {
      const tenant = await requireTenantByPortal(db, need('portal'));
      const milestone = await retryInvoice(runtime, { db, tenant, actor: 'cli' }, need('milestone'));
      console.log(`"${milestone.name}" is ${milestone.status}; its invoice is queued`);
      break;
    }
    case 'reconcile': {
      const tenant = await requireTenantByPortal(db, need('portal'));
      const done = await reconcileCompany(runtime, tenant);
      if (!done) console.log('no QuickBooks company is connected');
      else {
        console.log(`read ${done.invoices} changed invoices since ${done.since} (${done.via})`);
        for (const line of done.outcomes) console.log(`  ${line}`);
      }
      break;
    }
    case 'rekey': {
      const { resealed, changedMeanwhile } = await rekey(db, key);
      console.log(`re-sealed ${resealed} stored secrets with the current key`);
      if (changedMeanwhile)
        console.log(`${changedMeanwhile} changed while this ran (already sealed anew): run rekey again`);
      break;
    }
    default:
      console.error(`unknown command "${command}"\n\n${USAGE}`);
      process.exitCode = 2;
  }
} catch (error) {
  console.error(`${command}: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await runtime.close();
}
