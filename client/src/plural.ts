/** "1 tensor", "2 tensors" in the client's messages (the client shares no code with the server but its protocol types). */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
