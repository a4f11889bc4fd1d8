import { Time, Validity } from '@peculiar/asn1-x509';
import { BadParameter } from '../../errors/index.js';

/**
 * RFC 5280 4.1.2.5: UTCTime for 1950 through 2049, GeneralizedTime otherwise; whole seconds
 * only, since DER times carry no fraction here.
 */
export function validity(notBefore: Date, notAfter: Date): Validity {
  const from = wholeSeconds(notBefore, 'notBefore');
  const to = wholeSeconds(notAfter, 'notAfter');
  if (to.getTime() <= from.getTime()) {
    throw new BadParameter(
      'The certificate would expire before it becomes valid: notAfter must be after notBefore.',
    );
  }
  const validity = new Validity();
  validity.notBefore = time(from);
  validity.notAfter = time(to);
  return validity;
}

function wholeSeconds(date: Date, what: string): Date {
  const ms = date instanceof Date ? date.getTime() : NaN;
  const year = new Date(ms).getUTCFullYear();
  if (!Number.isFinite(ms) || year < 1950 || year > 9999) {
    throw new BadParameter(`The certificate's ${what} must be a valid date between 1950 and 9999.`);
  }
  return new Date(Math.floor(ms / 1000) * 1000);
}

function time(date: Date): Time {
  const year = date.getUTCFullYear();
  return new Time(year < 2050 ? { utcTime: date } : { generalTime: date });
}

/** Unix seconds of a decoded Time. */
export function unixSeconds(value: Time): number {
  return Math.floor(value.getTime().getTime() / 1000);
}
