import { ResponseTooLargeError } from '../resolvers/errors.js';

/**
 * Bytes of content one response may carry (MAX_RESPONSE_BYTES). Fields that return bulky
 * content (message and queued-message parts) charge it as they resolve; past the bound every
 * further charge throws, and the yoga plugin replaces the whole result with one
 * RESPONSE_TOO_LARGE error, so an oversized response is refused rather than serialised.
 */
export class ResponseBudget {
  private used = 0;
  constructor(readonly limit: number) {}

  get exceeded(): boolean {
    return this.used > this.limit;
  }

  /** Adds `bytes`; throws ResponseTooLargeError once the total passes the limit. */
  charge(bytes: number): void {
    this.used += bytes;
    if (this.used > this.limit) throw new ResponseTooLargeError(this.limit);
  }

  /** Charges the JSON size of a stored value (message content). */
  chargeJson(value: unknown): void {
    if (this.used > this.limit) throw new ResponseTooLargeError(this.limit);
    this.charge(value == null ? 4 : typeof value === 'string' ? value.length : JSON.stringify(value).length);
  }
}
