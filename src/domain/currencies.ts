/**
 * ISO 4217 active currencies and their minor-unit digits. Intl cannot be used to validate
 * (it formats any well-formed three-letter code) and ICU's digits differ from ISO for a few
 * currencies (IQD, LBP…), while QuickBooks follows ISO.
 */
const ZERO = 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF';
const THREE = 'BHD IQD JOD KWD LYD OMR TND';
const FOUR = 'CLF UYW';
const TWO =
  'AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD ' +
  'CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL ' +
  'GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD ' +
  'LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN ' +
  'PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB ' +
  'TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG';

const digitsByCode = new Map<string, number>();
for (const [list, digits] of [
  [ZERO, 0],
  [TWO, 2],
  [THREE, 3],
  [FOUR, 4],
] as const) {
  for (const code of list.split(' ')) digitsByCode.set(code, digits);
}

export function isCurrency(code: string): boolean {
  return digitsByCode.has(code);
}

/** Decimal places of the currency's minor unit; throws for an unknown code (callers validate first). */
export function minorDigits(code: string): number {
  const digits = digitsByCode.get(code);
  if (digits === undefined) throw new Error(`unknown currency ${code}`);
  return digits;
}
