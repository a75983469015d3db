import { escapeHtml } from './util.ts';

const STYLE = `body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;background:#f4f5f8;margin:0;color:#393a3d}
main{max-width:420px;margin:8vh auto;background:#fff;border-radius:8px;box-shadow:0 2px 8px rgba(0,0,0,.08);padding:32px}
h1{font-size:20px;margin:0 0 8px}p{line-height:1.5}.brand{color:#2ca01c;font-weight:700}
select,button{font:inherit;padding:8px 12px;border-radius:4px}select{width:100%;margin:8px 0 20px;border:1px solid #babec5}
button{border:0;cursor:pointer}.primary{background:#2ca01c;color:#fff}.secondary{background:#eceef1;color:#393a3d;margin-right:8px}`;

export function consentPage(input: {
  clientId: string;
  redirectUri: string;
  state: string;
  realms: string[];
  selected: string;
}): string {
  const options = input.realms
    .map(
      (r) =>
        `<option value="${escapeHtml(r)}"${r === input.selected ? ' selected' : ''}>Company ${escapeHtml(r)}</option>`,
    )
    .join('');
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Connect to QuickBooks (sandbox)</title><style>${STYLE}</style></head>
<body><main><p class="brand">intuit quickbooks · sandbox</p><h1>Connect your QuickBooks company</h1>
<p>The app <strong>${escapeHtml(input.clientId)}</strong> wants to read and write your accounting data.</p>
<form method="post" action="/connect/oauth2/consent">
<input type="hidden" name="client_id" value="${escapeHtml(input.clientId)}">
<input type="hidden" name="redirect_uri" value="${escapeHtml(input.redirectUri)}">
<input type="hidden" name="state" value="${escapeHtml(input.state)}">
<label for="realm">Company</label><select id="realm" name="realmId">${options}</select>
<button class="secondary" name="decision" value="deny">Cancel</button><button class="primary" name="decision" value="approve">Connect</button>
</form></main></body></html>`;
}

export function oauthErrorPage(error: string, description: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Error</title><style>${STYLE}</style></head>
<body><main><h1>Something went wrong</h1><p>${escapeHtml(description)}</p><p><code>${escapeHtml(error)}</code></p></main></body></html>`;
}
