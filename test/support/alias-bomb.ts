/** A YAML "billion laughs": `levels` lines of 9 aliases to the line above (9^7 ≈ 4.8 million strings at 7). */
export function aliasBomb(levels = 7): string {
  const names = 'abcdefghij';
  const lines = [`a: &a [${Array(9).fill('"lol"').join(',')}]`];
  for (let i = 1; i < levels; i++) lines.push(`${names[i]}: &${names[i]} [${Array(9).fill(`*${names[i - 1]}`).join(',')}]`);
  return `${lines.join('\n')}\n`;
}
