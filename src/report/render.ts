/**
 * Renders a vega-lite spec headless to SVG and PNG: vega draws the SVG without a browser
 * or canvas, resvg rasterises it. Kept apart from the specs (plots.ts) because loading
 * vega, vega-lite and resvg costs a quarter of a second, which only a process that draws
 * should pay.
 */
import { existsSync } from 'node:fs';
import { Resvg, type ResvgRenderOptions } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Vega sizes are CSS pixels; doubling keeps 11px tick labels legible in the PNG. */
const PNG_ZOOM = 2;

/**
 * Font files tried before the system fonts. resvg maps `sans-serif` to Arial, which a
 * slim Linux image lacks, and then drops every label; loading a known file and naming
 * its family as the generic fallback keeps text in the PNG. `XRUN_FONT_FILE` lets a
 * machine without these packages point at any TTF/OTF.
 */
const FONT_CANDIDATES: readonly { file: string; family: string }[] = [
  { file: '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', family: 'DejaVu Sans' },
  { file: '/usr/share/fonts/dejavu/DejaVuSans.ttf', family: 'DejaVu Sans' },
  { file: '/usr/share/fonts/TTF/DejaVuSans.ttf', family: 'DejaVu Sans' },
  { file: '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf', family: 'Liberation Sans' },
  { file: '/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf', family: 'Liberation Sans' },
  { file: '/System/Library/Fonts/Supplemental/Arial.ttf', family: 'Arial' },
  { file: '/Library/Fonts/Arial.ttf', family: 'Arial' },
  { file: 'C:\\Windows\\Fonts\\arial.ttf', family: 'Arial' },
];

let fontOptions: ResvgRenderOptions['font'] | undefined;

function resolveFonts(): NonNullable<ResvgRenderOptions['font']> {
  if (fontOptions) return fontOptions;
  const files: string[] = [];
  let family: string | undefined;
  const override = process.env.XRUN_FONT_FILE;
  if (override && existsSync(override)) files.push(override);
  for (const c of FONT_CANDIDATES) {
    if (!existsSync(c.file)) continue;
    files.push(c.file);
    family ??= c.family;
  }
  fontOptions = {
    loadSystemFonts: true,
    fontFiles: files,
    ...(family ? { sansSerifFamily: family, defaultFontFamily: family } : {}),
  };
  return fontOptions;
}

/** Compiles a vega-lite spec and renders it without a browser or canvas. */
export async function renderSpec(spec: TopLevelSpec): Promise<{ svg: string; png: Uint8Array }> {
  const compiled = compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  let svg: string;
  try {
    svg = await view.toSVG();
  } finally {
    view.finalize();
  }
  const resvg = new Resvg(svg, {
    font: resolveFonts(),
    fitTo: { mode: 'zoom', value: PNG_ZOOM },
    background: 'white',
    logLevel: 'off',
  });
  const png = resvg.render().asPng();
  return { svg, png: new Uint8Array(png.buffer, png.byteOffset, png.byteLength) };
}
