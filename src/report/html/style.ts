/** The report page's stylesheet: plain, print-friendly, no web fonts (nothing to fetch). */
export const PAGE_STYLE = `
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; margin: 0 auto; padding: 16px 24px; max-width: 1280px; color: #222; }
h1 { margin: 0 0 4px; font-size: 22px; } h2 { font-size: 17px; margin: 24px 0 8px; } h3 { font-size: 15px; margin: 16px 0 6px; }
header { border-bottom: 1px solid #ddd; padding-bottom: 8px; }
.muted { color: #777; font-weight: normal; font-size: 12px; }
code { font-size: 12px; background: #f4f4f4; padding: 0 3px; border-radius: 3px; }
table { border-collapse: collapse; font-size: 13px; margin: 4px 0; }
th, td { padding: 3px 8px; border-bottom: 1px solid #eee; text-align: left; white-space: nowrap; }
th { background: #f7f7f7; position: sticky; top: 0; }
th[data-sort] { cursor: pointer; user-select: none; } th[data-sort]:hover { background: #ececec; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.picked td { background: #f1f7ff; }
caption { caption-side: top; text-align: left; color: #777; font-size: 12px; }
#filters div { margin: 2px 0; } #filters label { margin-right: 8px; white-space: nowrap; }
.bar { margin: 6px 0; } button { font: inherit; font-size: 12px; }
.status { padding: 0 5px; border-radius: 3px; font-size: 12px; }
.status.completed { background: #e3f4e6; } .status.failed { background: #fbe1e1; }
.status.running { background: #fff3cd; } .status.interrupted, .status.stopped { background: #eee; }
.pair { display: flex; flex-wrap: wrap; gap: 24px; }
.plot { overflow-x: auto; }
`;
