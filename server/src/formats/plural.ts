/** "1 error", "2 errors": every count a person reads goes through here, so none says "1 errors". */
export function count(n: number, singular: string, plural = `${singular}s`, shown: string = String(n)): string {
  return `${shown} ${n === 1 ? singular : plural}`;
}
