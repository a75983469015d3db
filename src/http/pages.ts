import { escapeHtml } from '../security/html.ts';

/**
 * A small page the OAuth flows and sign-in links end on: a heading, paragraphs, links and at most one
 * form (hidden fields and a button), every text escaped.
 */
export function page(opts: {
  title: string;
  heading: string;
  body: string[];
  links?: { href: string; text: string }[];
  form?: { action: string; fields: Record<string, string>; submit: string };
}) {
  const paragraphs = opts.body.map((p) => `<p>${escapeHtml(p)}</p>`);
  const form = opts.form
    ? [
        `<form method="post" action="${escapeHtml(opts.form.action)}">${Object.entries(opts.form.fields)
          .map(
            ([name, value]) =>
              `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`,
          )
          .join('')}<button type="submit">${escapeHtml(opts.form.submit)}</button></form>`,
      ]
    : [];
  const links = (opts.links ?? []).map(
    (l) => `<p><a href="${escapeHtml(l.href)}">${escapeHtml(l.text)}</a></p>`,
  );
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(opts.title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#213343}
h1{font-size:1.5rem}a{color:#0b6e99}button{font:inherit;padding:.4rem 1rem;border:1px solid #0b5e86;background:#0b5e86;color:#fff;border-radius:3px;cursor:pointer}
button:focus-visible,a:focus-visible{outline:3px solid #b85c00;outline-offset:2px}</style></head><body>
<h1>${escapeHtml(opts.heading)}</h1>
${[...paragraphs, ...form, ...links].join('\n')}
</body></html>`;
}
