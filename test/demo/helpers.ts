/** A deep copy of a JSON value, to mutate in hostile tables. */
export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T
}
