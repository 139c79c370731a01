// User attributes: multi-valued, named by administrators, directories and imports. A name is data, not a property of
// a JavaScript object, so every map of them is built without a prototype: `constructor` or `__proto__` is an attribute
// like any other (on a plain object the first reads Object's constructor and the second replaces the prototype).
export type Attributes = Record<string, string[]>;

/** A new, empty attribute map (no prototype). */
export function emptyAttributes(): Attributes {
  return Object.create(null) as Attributes;
}

/** Appends `value` to the attribute `name`. */
export function addAttributeValue(attributes: Attributes, name: string, value: string): void {
  (attributes[name] ??= []).push(value);
}

/** An attribute map (no prototype) from name → values pairs; a repeated name keeps its last values. */
export function attributesFrom(entries: Iterable<readonly [string, string[]]>): Attributes {
  const out = emptyAttributes();
  for (const [name, values] of entries) out[name] = values;
  return out;
}
