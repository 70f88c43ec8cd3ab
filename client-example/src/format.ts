/** Microdollars (a BigInt string) as dollars, e.g. "$1.2345". */
export function formatUsd(micros: string): string {
  return `$${(Number(micros) / 1e6).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 4 })}`;
}

/** A token or message count with thousands separators. */
export function formatCount(value: string | number): string {
  return Number(value).toLocaleString('en-US');
}

const DAY = 86_400_000;

/** The cost view's default range: the last 30 days, as the API's half-open [startDate, endDate). */
export function costRange(fromDay: string, toDay: string): { startDate: string; endDate: string } {
  return { startDate: `${fromDay}T00:00:00.000Z`, endDate: new Date(Date.parse(`${toDay}T00:00:00.000Z`) + DAY).toISOString() };
}

export const isoDay = (d: Date): string => d.toISOString().slice(0, 10);
export const daysBefore = (d: Date, days: number): Date => new Date(d.getTime() - days * DAY);
