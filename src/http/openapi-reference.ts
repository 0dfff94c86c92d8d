import type { OpenApiDocument } from './openapi.ts';

/**
 * The browsable API reference: plain HTML rendered on the server from the OpenAPI document, with no
 * script and nothing fetched from elsewhere (gateways often run without internet access). One
 * section per tag, one entry per operation with its auth, parameters, body and responses; schemas
 * are shown as JSON Schema, with component references linked.
 */
export function renderReference(doc: OpenApiDocument): string {
  const info = doc.info as { title: string; version: string; description?: string };
  const server = (doc.servers as Array<{ url: string }> | undefined)?.[0]?.url ?? '';
  const byTag = new Map<string, string[]>();
  const nav = new Map<string, string[]>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item) as unknown as Array<[string, Op]>) {
      const tag = op.tags?.[0] ?? 'other';
      (byTag.get(tag) ?? byTag.set(tag, []).get(tag)!).push(operation(method, path, op));
      (nav.get(tag) ?? nav.set(tag, []).get(tag)!).push(`<li><a href="#${esc(op.operationId)}"><code>${method.toUpperCase()} ${esc(path)}</code></a></li>`);
    }
  }
  const tags = [...byTag.keys()].sort();
  const schemas = Object.entries(doc.components.schemas)
    .map(([name, s]) => `<section class="schema" id="schema-${esc(name)}"><h3>${esc(name)}</h3>${schemaBlock(s)}</section>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(info.title)} API reference</title>
<style>${CSS}</style></head>
<body><nav><h1>${esc(info.title)}</h1><p>v${esc(info.version)} · <a href="openapi.json">openapi.json</a></p>
${tags.map((t) => `<h2><a href="#tag-${esc(t)}">${esc(t)}</a></h2><ul>${nav.get(t)!.join('')}</ul>`).join('\n')}
<h2><a href="#schemas">schemas</a></h2></nav>
<main><p>Base URL: <code>${esc(server)}</code> (the paths below follow it). Every error answers the <a href="#schema-Error">error envelope</a>.</p>
${info.description ? `<p>${esc(info.description)}</p>` : ''}
${tags.map((t) => `<section id="tag-${esc(t)}"><h2>${esc(t)}</h2>${byTag.get(t)!.join('\n')}</section>`).join('\n')}
<section id="schemas"><h2>Schemas</h2>${schemas}</section></main></body></html>
`;
}

interface Op {
  operationId: string;
  summary: string;
  description?: string;
  tags?: string[];
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: string; required?: boolean; description?: string; schema: unknown }>;
  requestBody?: { content: Record<string, { schema?: unknown }> };
  responses: Record<string, { description: string; content?: Record<string, { schema?: unknown }> }>;
}

function operation(method: string, path: string, op: Op): string {
  const auth = op.security?.length
    ? op.security.map((s) => Object.entries(s).map(([k, scopes]) => (scopes.length ? `${k} (${scopes.join(', ')})` : k)).join(' + ')).join(' or ')
    : 'none (public)';
  const params = op.parameters?.length
    ? `<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>required</th><th>schema</th></tr>${op.parameters
        .map((p) => `<tr><td><code>${esc(p.name)}</code>${p.description ? `<br>${esc(p.description)}` : ''}</td><td>${p.in}</td><td>${p.required ? 'yes' : 'no'}</td><td>${inline(p.schema)}</td></tr>`)
        .join('')}</table>`
    : '';
  const body = op.requestBody ? `<h4>Request body</h4>${media(op.requestBody.content)}` : '';
  const responses = Object.entries(op.responses)
    .map(([status, r]) => `<details${status.startsWith('2') ? ' open' : ''}><summary><b>${esc(status)}</b> ${esc(r.description)}</summary>${r.content ? media(r.content) : ''}</details>`)
    .join('');
  return `<article id="${esc(op.operationId)}"><h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${esc(path)}</code></h3>
<p>${esc(op.summary)}</p>${op.description ? `<p>${esc(op.description)}</p>` : ''}<p class="auth">Auth: ${esc(auth)}</p>${params}${body}<h4>Responses</h4>${responses}</article>`;
}

function media(content: Record<string, { schema?: unknown }>): string {
  return Object.entries(content)
    .map(([type, m]) => `<p><code>${esc(type)}</code></p>${m.schema ? schemaBlock(m.schema) : ''}`)
    .join('');
}

function inline(schema: unknown): string {
  return `<code>${linkRefs(esc(JSON.stringify(schema)))}</code>`;
}

function schemaBlock(schema: unknown): string {
  return `<pre>${linkRefs(esc(JSON.stringify(schema, null, 2)))}</pre>`;
}

/** `"$ref": "#/components/schemas/X"` becomes a link to X's section. */
function linkRefs(html: string): string {
  return html.replace(/&quot;#\/components\/schemas\/([A-Za-z0-9_.-]+)&quot;/g, (_m, name: string) => `<a href="#schema-${name}">&quot;#/components/schemas/${name}&quot;</a>`);
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

const CSS = `body{margin:0;display:flex;font:14px/1.5 system-ui,sans-serif;color:#1d2330}
nav{width:300px;flex:none;height:100vh;overflow:auto;position:sticky;top:0;background:#f4f5f8;padding:12px 16px;box-sizing:border-box}
nav h2{font-size:13px;margin:14px 0 4px;text-transform:uppercase}nav ul{list-style:none;margin:0;padding:0}nav li code{font-size:12px}
main{flex:1;padding:16px 32px;min-width:0}article{border-top:1px solid #dde;padding:8px 0 16px}
pre{background:#f7f7fa;padding:8px;overflow:auto;font-size:12px;max-height:400px}table{border-collapse:collapse}
td,th{border:1px solid #dde;padding:4px 6px;vertical-align:top;text-align:left}td code{font-size:12px;word-break:break-all}
.m{display:inline-block;min-width:56px;text-align:center;border-radius:3px;color:#fff;font-size:12px;padding:1px 4px}
.get{background:#2f7d32}.post{background:#1f5fbf}.put{background:#a06000}.patch{background:#6a3fb0}.delete{background:#b3261e}
.auth{color:#555}a{color:#1f5fbf}`;
