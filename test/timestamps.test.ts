import { expect } from 'chai';
import { isoTimestamp } from '../src/db/timestamps';

/** What PostgreSQL prints for a UTC timestamptz (DateStyle ISO: trailing zeros of the fraction dropped) -> what the API shows. */
describe('timestamps as the API shows them (src/db/timestamps.ts)', () => {
  const cases: [string, string][] = [
    ['2026-11-24 12:00:00+00', '2026-11-24T12:00:00.000Z'],
    ['2026-11-24 12:00:00.1+00', '2026-11-24T12:00:00.100Z'],
    ['2026-11-24 12:00:00.12+00', '2026-11-24T12:00:00.120Z'],
    ['2026-11-24 12:00:00.123+00', '2026-11-24T12:00:00.123Z'],
    ['2026-11-24 12:00:00.1234+00', '2026-11-24T12:00:00.123Z'],
    ['2026-11-24 12:00:00.12345+00', '2026-11-24T12:00:00.123Z'],
    ['2026-11-24 12:00:00.123456+00', '2026-11-24T12:00:00.123Z'],
    ['0999-01-02 03:04:05.9+00', '0999-01-02T03:04:05.900Z'],
  ];
  for (const [text, iso] of cases) {
    it(`${text} -> ${iso}`, () => {
      expect(isoTimestamp(text)).to.equal(iso);
    });
  }

  it('takes any other shape through Date: an offset', () => {
    expect(isoTimestamp('2026-11-24 14:00:00.5+02')).to.equal('2026-11-24T12:00:00.500Z');
    expect(isoTimestamp('2026-11-24 12:00:00-05:30')).to.equal(new Date('2026-11-24T12:00:00-05:30').toISOString());
  });

  it('leaves infinity as it is', () => {
    expect(isoTimestamp('infinity')).to.equal('infinity');
  });
});
