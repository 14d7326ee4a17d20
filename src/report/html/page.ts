/**
 * report.html: one self-contained page. vega, vega-lite and vega-embed are read from
 * node_modules when the report is written and inlined with the data and the page's
 * script, so the file opens from disk in any browser with no network.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { formatDuration } from '../summary.js';
import { meanStd } from '../stats.js';
import { reportApp } from './client.js';
import type { ReportData } from './data.js';
import { PAGE_STYLE } from './style.js';

/** The browser builds, in load order (vega-lite and vega-embed need the globals before them). */
const LIBRARIES = [
  ['vega', 'build/vega.min.js'],
  ['vega-lite', 'build/vega-lite.min.js'],
  ['vega-embed', 'build/vega-embed.min.js'],
] as const;

// createRequire rather than import.meta.resolve, which Node 20 only has from 20.6.
const require = createRequire(import.meta.url);

/** A package's folder, found from its resolved entry point (its exports hide package.json). */
function packageDir(name: string): string {
  let dir = dirname(require.resolve(name));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === name) return dir;
    } catch {
      // no package.json at this level; keep going up
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the folder of package ${name}`);
    dir = up;
  }
}

let libraries: string | undefined;

function inlineLibraries(): string {
  libraries ??= LIBRARIES.map(([name, file]) => {
    const code = readFileSync(join(packageDir(name), file), 'utf8')
      // A source map comment would point devtools at a file that is not there.
      .replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, '\n');
    return `<script>/* ${name} */\n${scriptSafe(code)}</script>`;
  }).join('\n');
  return libraries;
}

/** Text inside <script> must not close the element early. */
function scriptSafe(code: string): string {
  return code.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

function esc(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

export function reportHtml(data: ReportData): string {
  // Every '<' as \u003c, so no run name, path or error text in the data can end the element early.
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  const experiments = data.experiments
    .map((e) => {
      const overrides = e.overrides.length ? ` · overrides: ${e.overrides.map((o) => `<code>--set ${esc(o)}</code>`).join(' ')}` : '';
      return `<div><b>${esc(e.name)}</b> (${e.runs} run(s), <code>${esc(e.dir)}</code>)${e.description ? ` · ${esc(e.description)}` : ''}${overrides}</div>`;
    })
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${esc(data.title)}: xrun report</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<header>
<h1>${esc(data.title)}</h1>
${experiments}
<div class="muted">written ${esc(data.generatedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))} by xrun</div>
</header>
<section>
<h2>Results</h2>
<div id="filters"></div>
<div class="bar"><span id="shown" class="muted"></span> <button id="pick-all">pick all shown</button> <button id="pick-none">pick none</button> <span class="muted">click a column title to sort</span></div>
<table id="runs"></table>
<h3>Groups</h3>
<table id="groups"></table>
</section>
<section><h2>Learning curves <span class="muted">(picked runs; solid: test, dashed: train, dotted: validation)</span></h2><div id="curves" class="plot"></div></section>
<section class="pair">
<div><h2>Accuracy against time</h2><div id="scatter" class="plot"></div></div>
<div><h2>Effect of each swept axis <span class="muted">(red: mean)</span></h2><div id="effects" class="plot"></div></div>
</section>
<section><h2>Confusion matrices <span class="muted">(picked runs, test set, final model)</span></h2><div id="confusion" class="plot"></div></section>
<section><h2>Config differences</h2><div class="bar"><select id="diff-a"></select> vs <select id="diff-b"></select></div><table id="config-diff"></table></section>
<section><h2>Backend and machine</h2><table id="machines"></table></section>
${inlineLibraries()}
<script type="application/json" id="xrun-data">${json}</script>
<script>
${formatDuration.toString()}
${meanStd.toString()}
${reportApp.toString()}
reportApp(JSON.parse(document.getElementById('xrun-data').textContent));
</script>
</body>
</html>
`;
}
