import { escapeHtml } from '../security/html.ts';

/** A small page the OAuth flows end on: a heading, paragraphs and links, every text escaped. */
export function page(opts: {
  title: string;
  heading: string;
  body: string[];
  links?: { href: string; text: string }[];
}) {
  const paragraphs = opts.body.map((p) => `<p>${escapeHtml(p)}</p>`);
  const links = (opts.links ?? []).map(
    (l) => `<p><a href="${escapeHtml(l.href)}">${escapeHtml(l.text)}</a></p>`,
  );
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(opts.title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#213343}
h1{font-size:1.5rem}a{color:#0b6e99}</style></head><body>
<h1>${escapeHtml(opts.heading)}</h1>
${[...paragraphs, ...links].join('\n')}
</body></html>`;
}
