/**
 * The report page's script. `reportApp`'s source is inlined into report.html (with
 * `meanStd` and `formatDuration`, which it calls by name), so it must reference nothing
 * else from this module: no imports at run time, no helpers outside the function. It
 * builds the table, filters, grouping and plots from the data embedded in the page.
 */
import type { formatDuration as FormatDuration } from '../summary.js';
import type { meanStd as MeanStd } from '../stats.js';
import type { ReportData } from './data.js';

// The page's globals; this module is type-checked without the DOM library.
declare const document: any;
declare const vegaEmbed: any;
declare const meanStd: typeof MeanStd;
declare const formatDuration: typeof FormatDuration;

export function reportApp(data: ReportData): void {
  type Run = ReportData['runs'][number];
  const runs = data.runs;
  const byKey = new Map(runs.map((r) => [r.key, r]));
  const several = data.experiments.length > 1;
  const axes = data.axes;

  const esc = (v: unknown) =>
    String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
  const four = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(4) : '');
  const text = (v: unknown) => (v === null || v === undefined ? '' : String(v));
  const $ = (id: string) => document.getElementById(id);

  interface Col {
    key: string;
    label: string;
    get: (r: Run) => string | number | boolean | null;
    show?: (r: Run) => string;
    numeric?: boolean;
  }
  const columns: Col[] = [
    ...(several ? [{ key: 'experiment', label: 'experiment', get: (r: Run) => r.experiment }] : []),
    { key: 'run', label: 'run', get: (r) => r.id },
    ...axes.map((a): Col => ({ key: `axis:${a.key}`, label: a.label, get: (r) => r.values[a.key] ?? null, numeric: a.numeric })),
    { key: 'status', label: 'status', get: (r) => r.status, show: (r) => `<span class="status ${esc(r.status)}"${r.error ? ` title="${esc(r.error)}"` : ''}>${esc(r.status)}</span>` },
    { key: 'epochs', label: 'epochs', get: (r) => r.epochsCompleted, show: (r) => `${r.epochsCompleted}${r.epochs === null ? '' : `/${r.epochs}`}`, numeric: true },
    { key: 'test_accuracy', label: 'test accuracy', get: (r) => r.final?.test_accuracy ?? null, show: (r) => four(r.final?.test_accuracy), numeric: true },
    { key: 'test_loss', label: 'test loss', get: (r) => r.final?.test_loss ?? null, show: (r) => four(r.final?.test_loss), numeric: true },
    { key: 'best', label: 'test acc at best val', get: (r) => r.bestTestAccuracy, show: (r) => four(r.bestTestAccuracy), numeric: true },
    { key: 'time', label: 'time', get: (r) => r.seconds, show: (r) => (r.seconds === null ? '' : formatDuration(r.seconds)), numeric: true },
    { key: 'backend', label: 'backend', get: (r) => r.backend },
  ];

  // Grouping keys: every sweep axis, and the experiment when there are several.
  const groupKeys = [...(several ? [{ key: 'experiment', label: 'experiment' }] : []), ...axes.map((a) => ({ key: a.key, label: a.label }))];
  const groupValue = (r: Run, key: string) => (key === 'experiment' ? r.experiment : r.values[key] ?? null);

  const state = {
    sort: null as null | { key: string; dir: 1 | -1 },
    excluded: new Map<string, Set<string>>(),
    // Repeated seeds are what grouping is for: start grouped by every other axis.
    groupBy: new Set<string>(axes.some((a) => a.key === 'seed') ? groupKeys.filter((g) => g.key !== 'seed').map((g) => g.key) : []),
    picked: [] as string[],
  };
  const ranked = [...runs].sort((a, b) => (b.final?.test_accuracy ?? -1) - (a.final?.test_accuracy ?? -1));
  state.picked = (runs.length <= 10 ? runs : ranked.slice(0, 5)).map((r) => r.key);

  const filterKey = (key: string) => (key === 'experiment' ? 'experiment' : key);
  const visible = () =>
    runs.filter((r) => {
      for (const [key, values] of state.excluded) if (values.has(text(groupValue(r, key)))) return false;
      return true;
    });

  function sorted(list: Run[]): Run[] {
    const s = state.sort;
    if (!s) return list;
    const col = columns.find((c) => c.key === s.key)!;
    return [...list].sort((a, b) => {
      const x = col.get(a);
      const y = col.get(b);
      // Missing values sort last either way.
      if (x === null || x === undefined) return y === null || y === undefined ? 0 : 1;
      if (y === null || y === undefined) return -1;
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true });
      return c * s.dir;
    });
  }

  function renderTable() {
    const list = sorted(visible());
    const head = columns
      .map((c) => {
        const arrow = state.sort?.key === c.key ? (state.sort.dir === 1 ? ' ▲' : ' ▼') : '';
        return `<th data-sort="${esc(c.key)}" class="${c.numeric ? 'num' : ''}" title="sort by ${esc(c.label)}">${esc(c.label)}${arrow}</th>`;
      })
      .join('');
    const body = list
      .map((r) => {
        const picked = state.picked.includes(r.key);
        const cells = columns.map((c) => `<td class="${c.numeric ? 'num' : ''}">${c.show ? c.show(r) : esc(c.get(r))}</td>`).join('');
        return `<tr data-run="${esc(r.key)}" class="${picked ? 'picked' : ''}"><td><input type="checkbox" class="pick" ${picked ? 'checked' : ''} aria-label="pick ${esc(r.id)}"></td>${cells}</tr>`;
      })
      .join('');
    $('runs').innerHTML = `<thead><tr><th title="pick runs for curves, confusion matrices and config differences">pick</th>${head}</tr></thead><tbody>${body}</tbody>`;
    $('shown').textContent = `${list.length} of ${runs.length} run(s) shown`;
  }

  function renderFilters() {
    const keys = groupKeys.filter((g) => new Set(runs.map((r) => text(groupValue(r, g.key)))).size > 1 || g.key === 'experiment');
    const parts = keys.map((g) => {
      const values = [...new Set(runs.map((r) => text(groupValue(r, g.key))))];
      const boxes = values
        .map((v) => {
          const off = state.excluded.get(filterKey(g.key))?.has(v);
          return `<label><input type="checkbox" class="filter" data-key="${esc(g.key)}" value="${esc(v)}" ${off ? '' : 'checked'}> ${esc(v)}</label>`;
        })
        .join(' ');
      return `<div><b>${esc(g.label)}</b> ${boxes}</div>`;
    });
    const groupBoxes = groupKeys
      .map((g) => `<label><input type="checkbox" class="group" value="${esc(g.key)}" ${state.groupBy.has(g.key) ? 'checked' : ''}> ${esc(g.label)}</label>`)
      .join(' ');
    $('filters').innerHTML =
      (parts.length ? `<div class="muted">show runs with:</div>${parts.join('')}` : '') +
      (groupKeys.length ? `<div><b>group by</b> ${groupBoxes} <span class="muted">(mean ± std and n over the runs in each group)</span></div>` : '');
  }

  function renderGroups() {
    const by = groupKeys.filter((g) => state.groupBy.has(g.key));
    const el = $('groups');
    if (by.length === 0) {
      el.innerHTML = '<tbody><tr><td class="muted">tick "group by" above to see mean ± std per group</td></tr></tbody>';
      return;
    }
    const groups = new Map<string, { key: unknown[]; runs: Run[] }>();
    for (const r of visible()) {
      const key = by.map((g) => groupValue(r, g.key));
      const id = JSON.stringify(key);
      if (!groups.has(id)) groups.set(id, { key, runs: [] });
      groups.get(id)!.runs.push(r);
    }
    const pm = (values: (number | null | undefined)[], show: (v: number) => string) => {
      const s = meanStd(values);
      if (s.mean === null) return '';
      return s.std === null ? show(s.mean) : `${show(s.mean)} ± ${show(s.std)}`;
    };
    const rows = [...groups.values()]
      .map((g) => {
        const cells = g.key.map((v) => `<td>${esc(v)}</td>`).join('');
        const acc = pm(g.runs.map((r) => r.final?.test_accuracy), (v) => v.toFixed(4));
        const loss = pm(g.runs.map((r) => r.final?.test_loss), (v) => v.toFixed(4));
        const time = meanStd(g.runs.map((r) => r.seconds)).mean;
        return `<tr>${cells}<td class="num">${g.runs.length}</td><td class="num">${acc}</td><td class="num">${loss}</td><td class="num">${time === null ? '' : formatDuration(time)}</td></tr>`;
      })
      .join('');
    const head = by.map((g) => `<th>${esc(g.label)}</th>`).join('');
    el.innerHTML = `<thead><tr>${head}<th class="num">n</th><th class="num">test accuracy (mean ± std)</th><th class="num">test loss (mean ± std)</th><th class="num">time (mean)</th></tr></thead><tbody>${rows}</tbody>`;
  }

  const embed = (id: string, spec: object) =>
    vegaEmbed(`#${id}`, { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', ...spec }, { renderer: 'svg', actions: false }).catch((err: Error) =>
      console.error(`${id}: ${err.message}`),
    );
  const empty = (id: string, message: string) => ($(id).innerHTML = `<p class="muted">${esc(message)}</p>`);
  const pickedRuns = () => state.picked.map((k) => byKey.get(k)).filter((r): r is Run => r !== undefined);
  const label = (r: Run) => (several ? `${r.experiment}/${r.id}` : r.id);

  function renderCurves() {
    const values: object[] = [];
    for (const r of pickedRuns()) {
      for (const m of r.metrics) {
        const splits: [string, string][] = [['train', 'train'], ['test', 'test'], ['val', 'validation'], ['validation', 'validation']];
        for (const [prefix, split] of splits) {
          const loss = m[`${prefix}_loss`];
          const accuracy = m[`${prefix}_accuracy`];
          if (loss === undefined && accuracy === undefined) continue;
          values.push({ run: label(r), epoch: m.epoch, split, loss: loss ?? null, accuracy: accuracy ?? null });
        }
      }
    }
    if (values.length === 0) return empty('curves', 'Pick runs with recorded epochs in the table to see their curves.');
    const present = new Set(values.map((v: any) => v.split));
    const dashes = ([['test', [1, 0]], ['train', [6, 3]], ['validation', [2, 2]]] as [string, number[]][]).filter((d) => present.has(d[0]));
    const panel = (field: string, title: string) => ({
      title,
      width: 360,
      height: 240,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1, format: 'd' } },
        y: { field, type: 'quantitative', scale: { zero: false } },
        color: { field: 'run', type: 'nominal' },
        // Test solid, train dashed, validation dotted, whichever of them a run has.
        strokeDash: {
          field: 'split',
          type: 'nominal',
          scale: { domain: dashes.map((d) => d[0]), range: dashes.map((d) => d[1]) },
          // Named in the section title; a dash legend next to point marks shows only dots.
          legend: null,
        },
        tooltip: [{ field: 'run' }, { field: 'split' }, { field: 'epoch' }, { field, format: '.4f' }],
      },
    });
    return embed('curves', { data: { values }, hconcat: [panel('loss', 'loss'), panel('accuracy', 'accuracy')] });
  }

  function renderScatter() {
    const colorAxis = axes[0];
    const values = visible()
      .filter((r) => r.seconds !== null && r.final)
      .map((r) => ({ run: label(r), seconds: r.seconds, minutes: (r.seconds as number) / 60, accuracy: r.final!.test_accuracy, group: colorAxis ? text(r.values[colorAxis.key]) : r.experiment }));
    if (values.length === 0) return empty('scatter', 'No run has finished an epoch yet.');
    return embed('scatter', {
      title: 'final test accuracy against training time',
      width: 420,
      height: 260,
      data: { values },
      mark: { type: 'point', filled: true, size: 90 },
      encoding: {
        x: { field: 'minutes', type: 'quantitative', title: 'training time (minutes)' },
        y: { field: 'accuracy', type: 'quantitative', title: 'test accuracy', scale: { zero: false } },
        color: { field: 'group', type: 'nominal', title: colorAxis ? colorAxis.label : 'experiment' },
        tooltip: [{ field: 'run' }, { field: 'accuracy', format: '.4f' }, { field: 'minutes', format: '.2f' }],
      },
    });
  }

  function renderEffects() {
    const list = visible().filter((r) => r.final);
    const values = axes.flatMap((a) => list.map((r) => ({ axis: a.label, value: text(r.values[a.key]), accuracy: r.final!.test_accuracy, run: label(r) })));
    if (values.length === 0) return empty('effects', axes.length ? 'No run has finished an epoch yet.' : 'This experiment has no sweep axes.');
    return embed('effects', {
      data: { values },
      facet: { field: 'axis', type: 'nominal', title: null, header: { labelFontSize: 13, labelFontWeight: 'bold' } },
      columns: 3,
      resolve: { scale: { x: 'independent' } },
      spec: {
        width: 240,
        height: 200,
        layer: [
          {
            mark: { type: 'point', filled: true, size: 60, opacity: 0.6 },
            encoding: {
              x: { field: 'value', type: 'ordinal', title: null, sort: null },
              y: { field: 'accuracy', type: 'quantitative', title: 'test accuracy', scale: { zero: false } },
              tooltip: [{ field: 'run' }, { field: 'accuracy', format: '.4f' }],
            },
          },
          {
            mark: { type: 'tick', color: '#c0392b', thickness: 2, size: 24 },
            encoding: {
              x: { field: 'value', type: 'ordinal', sort: null },
              y: { aggregate: 'mean', field: 'accuracy', type: 'quantitative' },
            },
          },
        ],
      },
    });
  }

  function renderConfusion() {
    const matrices = pickedRuns()
      .filter((r) => r.confusion)
      .map((r) => {
        const values: object[] = [];
        r.confusion!.forEach((row, truth) => row.forEach((count, predicted) => values.push({ truth, predicted, count })));
        return { run: label(r), values, most: Math.max(...r.confusion!.flat()) };
      });
    if (matrices.length === 0) return empty('confusion', 'Confusion matrices appear for picked runs that have finished.');
    // One chart per run side by side (a facet would leave empty axes in its last row).
    return embed('confusion', {
      columns: 4,
      concat: matrices.map((m) => ({
        title: { text: m.run, fontSize: 11 },
        width: 170,
        height: 170,
        data: { values: m.values },
        encoding: {
          x: { field: 'predicted', type: 'ordinal', title: 'predicted' },
          y: { field: 'truth', type: 'ordinal', title: 'true' },
        },
        layer: [
          {
            mark: 'rect',
            encoding: {
              color: { field: 'count', type: 'quantitative', scale: { scheme: 'blues', type: 'sqrt', domain: [0, m.most] }, legend: null },
              tooltip: [{ field: 'truth', title: 'true' }, { field: 'predicted' }, { field: 'count' }],
            },
          },
          {
            mark: { type: 'text', fontSize: 8 },
            transform: [{ filter: 'datum.count > 0' }],
            encoding: {
              text: { field: 'count' },
              // Light text on the dark cells so every count stays readable.
              color: { condition: { test: `datum.count > ${m.most / 2}`, value: 'white' }, value: 'black' },
            },
          },
        ],
      })),
      resolve: { scale: { color: 'independent' } },
    });
  }

  function flatten(value: unknown, path: string, out: Map<string, string>) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) flatten(v, path ? `${path}.${k}` : k, out);
    } else out.set(path, JSON.stringify(value));
    return out;
  }

  function renderDiffPickers() {
    const list = pickedRuns().length >= 2 ? pickedRuns() : runs;
    const options = (selected: string | undefined) =>
      runs.map((r) => `<option value="${esc(r.key)}" ${r.key === selected ? 'selected' : ''}>${esc(label(r))}</option>`).join('');
    $('diff-a').innerHTML = options(list[0]?.key);
    $('diff-b').innerHTML = options(list[1]?.key ?? list[0]?.key);
    renderDiff();
  }

  function renderDiff() {
    const a = byKey.get($('diff-a').value);
    const b = byKey.get($('diff-b').value);
    if (!a || !b) return;
    const fa = flatten(a.config, '', new Map());
    const fb = flatten(b.config, '', new Map());
    const paths = [...new Set([...fa.keys(), ...fb.keys()])].filter((p) => fa.get(p) !== fb.get(p) && p !== 'name' && p !== 'description');
    const rows = paths.map((p) => `<tr><td>${esc(p)}</td><td>${esc(fa.get(p) ?? '(missing)')}</td><td>${esc(fb.get(p) ?? '(missing)')}</td></tr>`).join('');
    $('config-diff').innerHTML =
      a === b
        ? '<tbody><tr><td class="muted">the same run on both sides</td></tr></tbody>'
        : paths.length === 0
          ? '<tbody><tr><td class="muted">identical configs</td></tr></tbody>'
          : `<thead><tr><th>config path</th><th>${esc(label(a))}</th><th>${esc(label(b))}</th></tr></thead><tbody>${rows}</tbody>`;
  }

  function renderMachines() {
    const rows = runs
      .map((r) => {
        const m = r.machine;
        const tfjs = r.versions['@tensorflow/tfjs-core'] ?? r.versions['@tensorflow/tfjs'] ?? '';
        const notes = r.backendNotes.length ? ` <span class="muted" title="${esc(r.backendNotes.join('; '))}">(notes)</span>` : '';
        return `<tr><td>${esc(label(r))}</td><td>${esc(r.backend)}${notes}</td><td>${esc(tfjs)}</td><td>${esc(m?.host)}</td><td>${esc(m ? `${m.cpu} × ${m.cores}` : '')}</td><td class="num">${esc(m ? `${m.memoryGiB} GiB` : '')}</td><td>${esc(m?.os)}</td><td>${esc(m?.node)}</td></tr>`;
      })
      .join('');
    $('machines').innerHTML = `<thead><tr><th>run</th><th>backend</th><th>tfjs</th><th>host</th><th>CPU × cores</th><th class="num">memory</th><th>OS</th><th>node</th></tr></thead><tbody>${rows}</tbody>`;
  }

  const onFilter = () => {
    renderTable();
    renderGroups();
    renderScatter();
    renderEffects();
  };
  const onPick = () => {
    renderTable();
    renderCurves();
    renderConfusion();
    renderDiffPickers();
  };

  $('runs').addEventListener('click', (e: any) => {
    const th = e.target.closest('th[data-sort]');
    if (!th) return;
    const key = th.dataset.sort as string;
    // First click sorts ascending, the next descending, the third restores the sweep order.
    if (state.sort?.key !== key) state.sort = { key, dir: 1 };
    else if (state.sort.dir === 1) state.sort = { key, dir: -1 };
    else state.sort = null;
    renderTable();
  });
  $('runs').addEventListener('change', (e: any) => {
    if (!e.target.classList.contains('pick')) return;
    const key = e.target.closest('tr').dataset.run as string;
    state.picked = e.target.checked ? [...state.picked.filter((k) => k !== key), key] : state.picked.filter((k) => k !== key);
    onPick();
  });
  $('filters').addEventListener('change', (e: any) => {
    const t = e.target;
    if (t.classList.contains('filter')) {
      const key = filterKey(t.dataset.key);
      if (!state.excluded.has(key)) state.excluded.set(key, new Set());
      if (t.checked) state.excluded.get(key)!.delete(t.value);
      else state.excluded.get(key)!.add(t.value);
      onFilter();
    } else if (t.classList.contains('group')) {
      if (t.checked) state.groupBy.add(t.value);
      else state.groupBy.delete(t.value);
      renderGroups();
    }
  });
  $('pick-all').addEventListener('click', () => {
    state.picked = sorted(visible()).map((r) => r.key);
    onPick();
  });
  $('pick-none').addEventListener('click', () => {
    state.picked = [];
    onPick();
  });
  $('diff-a').addEventListener('change', renderDiff);
  $('diff-b').addEventListener('change', renderDiff);

  renderFilters();
  renderMachines();
  onFilter();
  onPick();
}
