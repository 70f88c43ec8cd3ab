import { Decimal } from 'decimal.js';

// Enough significant digits that no product or sum of 64-bit token counts and stored numeric
// prices is ever rounded: the only rounding is the single ceil at the end (docs/costs.md).
const Exact = Decimal.clone({ precision: 200, rounding: Decimal.ROUND_CEIL });

/**
 * The billed token counts of one message as decimal strings (or bigint); null or absent = not
 * reported. Reasoning tokens are deliberately absent: they are part of outputTokens.
 */
export interface TokenUsage {
  inputTokens?: string | bigint | null;
  outputTokens?: string | bigint | null;
  cacheCreationTokens?: string | bigint | null;
  cacheReadTokens?: string | bigint | null;
}

/** USD per 1M tokens as exact decimal strings; null = unpriced, "0" = free. */
export interface TokenPrices {
  input_price: string | null;
  output_price: string | null;
  cache_read_price: string | null;
  cache_write_price: string | null;
}

const MAX_BIGINT = new Exact('9223372036854775807');

/** A cost that does not fit the signed 64-bit micro-USD column; callers turn it into a ValidationError. */
export class CostOutOfRangeError extends RangeError {
  constructor() {
    super('the message cost exceeds a signed 64-bit integer of micro-USD');
  }
}

/**
 * Cost rule: the cost of one message in whole micro-USD (a decimal string), or null when it
 * cannot be priced. Prices are per 1M tokens, so tokens × price is already micro-USD; the four
 * products are summed exactly and rounded up once. Reasoning tokens are part of output tokens
 * and are not billed again. Missing prices follow the reference backend: a model with at least
 * one price counts a token class without a price as 0, while a model with no price at all is
 * unpriced (null), whatever the usage, even zero tokens. A price of 0 is free. A message that
 * reports no usage at all, or has no model, is unpriced too. Throws CostOutOfRangeError when
 * the sum does not fit the column.
 */
export function messageCostMicros(usage: TokenUsage | null, prices: TokenPrices | null): string | null {
  if (usage === null || prices === null) return null;
  const classes: Array<[string | bigint | null | undefined, string | null]> = [
    [usage.inputTokens, prices.input_price],
    [usage.outputTokens, prices.output_price],
    [usage.cacheReadTokens, prices.cache_read_price],
    [usage.cacheCreationTokens, prices.cache_write_price],
  ];
  if (classes.every(([, price]) => price === null)) return null;
  if (classes.every(([tokens]) => tokens == null)) return null;
  let sum = new Exact(0);
  for (const [tokens, price] of classes) {
    if (tokens == null || price === null) continue;
    sum = sum.plus(new Exact(tokens.toString()).times(price));
  }
  const micros = sum.toDecimalPlaces(0, Decimal.ROUND_CEIL);
  if (micros.greaterThan(MAX_BIGINT)) throw new CostOutOfRangeError();
  return micros.toFixed(0);
}
