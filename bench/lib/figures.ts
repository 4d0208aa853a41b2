/** How figures are printed and stored. */

/** For the log and the table: whole numbers from 1,000 up, `digits` decimals below; '-' for none. */
export const fmt = (v: number | null, digits = 1) => (v === null || !Number.isFinite(v) ? '-' : v >= 1000 ? Math.round(v).toString() : v.toFixed(digits));
/** a ÷ b to three decimals; null when either is missing or b is 0. */
export const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? null : Math.round((a / b) * 1000) / 1000);
export const round = (v: number | null, digits = 2) => (v === null ? null : Math.round(v * 10 ** digits) / 10 ** digits);
