import type { ChangedField } from '../common/context.js';
import type { Person, Population } from './types.js';

// STUB: replaced by deterministic person changes.
export function applyPersonChange(
  _pop: Population,
  _person: Person,
  _fields: ChangedField[],
  _seq: number,
): void {}
