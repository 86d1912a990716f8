/** One maker per member of T: called at most once, on the member's first read. */
export type Makers<T> = { readonly [K in keyof T]: () => T[K] };

// Symbol keys: the instance's own state stays out of Object.keys, spreads and JSON, and can never
// hide a member of the same name.
const MADE = Symbol('lazyMembers.made');
const MAKERS = Symbol('lazyMembers.makers');

/**
 * Per-request loader sets whose members are made on first read. A DataLoader costs ~2 µs to make
 * (option checks, its cache map; measured on the bench machine) and an S1 person card reads two
 * of Byndle's eleven, so an eager set spent ~18 µs of every request on loaders it never used.
 *
 * `lazyMembers<T>()` is called once per kind of set, at module load. It defines one class whose
 * prototype gets a getter per member, from the keys of the first makers object it is given (the
 * makers object must name every member of T, so the getters always match T; T has no optional
 * members). Per request there is then one instance, its makers and one slot object; the getters
 * are shared, where an object literal with accessors would make them again for every request.
 */
export function lazyMembers<T extends object>(): (makers: Makers<T>) => T {
  class LazySet {
    readonly [MADE]: Partial<T> = Object.create(null) as Partial<T>;
    readonly [MAKERS]: Makers<T>;
    constructor(makers: Makers<T>) {
      this[MAKERS] = makers;
    }
  }
  let defined = false;
  const define = (keys: (keyof T & string)[]) => {
    for (const key of keys) {
      Object.defineProperty(LazySet.prototype, key, {
        enumerable: true,
        get(this: LazySet): T[typeof key] {
          const made = this[MADE];
          // `in`, not `??=`: a member may legitimately be made as undefined or null.
          if (!(key in made)) made[key] = this[MAKERS][key]();
          return made[key] as T[typeof key];
        },
      });
    }
    defined = true;
  };
  return (makers) => {
    if (!defined) define(Object.keys(makers) as (keyof T & string)[]);
    // The prototype's getters give T's members; TypeScript cannot see getters defined at run time.
    return new LazySet(makers) as unknown as T;
  };
}
