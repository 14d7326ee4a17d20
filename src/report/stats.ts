/**
 * Mean, sample standard deviation and count of the finite numbers in a list. Kept free of
 * imports and outside references: the HTML report inlines this very function's source,
 * so the page and `xrun compare` compute the same numbers.
 */
export function meanStd(values: readonly (number | null | undefined)[]): { mean: number | null; std: number | null; n: number } {
  const xs: number[] = [];
  for (const v of values) if (typeof v === 'number' && Number.isFinite(v)) xs.push(v);
  const n = xs.length;
  if (n === 0) return { mean: null, std: null, n: 0 };
  let sum = 0;
  for (const x of xs) sum += x;
  const mean = sum / n;
  if (n === 1) return { mean, std: null, n };
  let squares = 0;
  for (const x of xs) squares += (x - mean) * (x - mean);
  return { mean, std: Math.sqrt(squares / (n - 1)), n };
}
