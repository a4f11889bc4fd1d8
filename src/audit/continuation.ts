import { BadParameter } from '../errors/index.js';

/**
 * The `continuation` of a merged audit query (`--workers N`): the order it pages in and one
 * position per worker's chain, e.g. `a.120.87`. Clients pass it back as the nextLink gives it;
 * anything else is refused, so a damaged link never silently skips or repeats records.
 */

export function encodeContinuation(order: 'asc' | 'desc', positions: readonly number[]): string {
  return [order === 'asc' ? 'a' : 'd', ...positions].join('.');
}

export function decodeContinuation(text: string, order: 'asc' | 'desc', workers: number): number[] {
  const [tag, ...parts] = text.split('.');
  const refuse = (why: string) =>
    new BadParameter(
      `continuation ${why}: pass it back exactly as the nextLink gives it, with the other parameters of that link.`,
    );
  if ((tag !== 'a' && tag !== 'd') || parts.some((part) => !/^[0-9]{1,15}$/.test(part)))
    throw refuse('is not one this server made');
  if (tag !== (order === 'asc' ? 'a' : 'd'))
    throw refuse(`was made for order=${tag === 'a' ? 'asc' : 'desc'}`);
  if (parts.length !== workers)
    throw refuse(`holds ${parts.length} positions and this server has ${workers} workers`);
  return parts.map(Number);
}
