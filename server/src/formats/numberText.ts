/**
 * `1234567` → `1,234,567`. Not `toLocaleString('en-US')`: its first call loads ICU's number data
 * (~30 ms), a tenth of a `tensorport keys` run.
 */
export function groupDigits(n: number): string {
  const [int, frac] = String(Math.abs(n)).split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${n < 0 ? '-' : ''}${grouped}${frac ? `.${frac}` : ''}`;
}
