/**
 * DESIGN §3: dependencies point one way. Every part of src/ has a rank; a module imports only
 * parts ranked below it, or files of its own folder. So two folders can never import each other
 * (no folder cycle), and no-circular catches cycles between files of one folder.
 */
const RANKS = [
  ['domain/'],
  ['config.ts', 'log.ts', 'metrics.ts', 'ids.ts', 'retry.ts', 'security/'],
  ['store/', 'redis/'],
  ['oauth/'],
  ['hubspot/', 'quickbooks/'],
  ['tenants/'],
  ['schedules/'],
  ['acceptance/'],
  ['billing/'],
  ['jobs/'],
  ['context.ts'],
  ['http/', 'web/'],
  ['runtime.ts'],
  ['web.ts', 'worker.ts', 'cli.ts'],
];

const path = (part) => `^src/${part.replace('.', '[.]')}${part.endsWith('/') ? '' : '$'}`;
const any = (parts) => parts.map(path).join('|');

const layers = RANKS.flatMap((parts, rank) => {
  const above = RANKS.slice(rank + 1).flat();
  return parts.map((part) => ({
    name: `layers: ${part}`,
    comment: `src/${part} may import only what ranks below it, or its own folder`,
    severity: 'error',
    from: { path: path(part) },
    to: { path: any([...above, ...parts.filter((p) => p !== part)]) },
  }));
});

module.exports = {
  forbidden: [
    {
      name: 'adapters-do-not-know-each-other',
      comment: 'hubspot/ and quickbooks/ never import each other: billing/ is what crosses them.',
      severity: 'error',
      from: { path: '^src/(hubspot|quickbooks)/' },
      to: { path: '^src/(hubspot|quickbooks)/', pathNot: '^src/$1/' },
    },
    {
      name: 'domain-performs-no-io',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: {
        dependencyTypes: ['core'],
        path: '^(node:)?(fs|net|http|https|http2|child_process|dgram|dns|tls|worker_threads)$',
      },
    },
    {
      name: 'hubspot-sdk-stays-in-its-adapter',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/hubspot/' },
      to: { path: 'node_modules/@hubspot/api-client/' },
    },
    {
      name: 'quickbooks-sdk-stays-in-its-adapter',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/quickbooks/' },
      to: { path: 'node_modules/node-quickbooks/' },
    },
    {
      name: 'every-file-has-a-rank',
      comment: 'A new part of src/ gets its place in RANKS (.dependency-cruiser.cjs).',
      severity: 'error',
      from: { path: '^src/', pathNot: any(RANKS.flat()) },
      to: {},
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layers,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
