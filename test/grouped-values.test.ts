// GroupedValues keeps a lone value as itself and a Set from the second on; callers see the same
// groups either way.
import assert from "node:assert/strict";
import { test } from "node:test";
import { GroupedValues } from "../services/shared/grouped-values.ts";

const valuesOf = <K, V extends object>(groups: GroupedValues<K, V>, key: K): V[] => {
  const seen: V[] = [];
  const count = groups.forEach(key, (value) => seen.push(value));
  assert.equal(count, seen.length, "forEach counts what it visited");
  return seen;
};

test("values are grouped by key through one, two and back to none", () => {
  const groups = new GroupedValues<string, { id: string }>();
  const [a, b, c] = [{ id: "a" }, { id: "b" }, { id: "c" }];
  assert.deepEqual(valuesOf(groups, "u"), []);
  groups.add("u", a);
  groups.add("u", a);
  assert.deepEqual(valuesOf(groups, "u"), [a], "a value added twice is there once");
  groups.add("u", b);
  groups.add("v", c);
  assert.deepEqual(valuesOf(groups, "u"), [a, b]);
  assert.deepEqual(valuesOf(groups, "v"), [c]);
  assert.equal(groups.keyCount, 2);
  groups.delete("u", a);
  assert.deepEqual(valuesOf(groups, "u"), [b], "back to one value");
  groups.delete("u", a);
  assert.deepEqual(valuesOf(groups, "u"), [b], "deleting a value that is not there changes nothing");
  groups.delete("u", b);
  assert.deepEqual(valuesOf(groups, "u"), []);
  assert.equal(groups.keyCount, 1);
  groups.delete("v", a);
  assert.deepEqual(valuesOf(groups, "v"), [c], "a lone value is deleted only by itself");
});

test("fn may remove the values it is given", () => {
  const groups = new GroupedValues<string, { id: string }>();
  const values = [{ id: "a" }, { id: "b" }, { id: "c" }];
  for (const value of values) groups.add("u", value);
  const seen: string[] = [];
  groups.forEach("u", (value) => {
    seen.push(value.id);
    groups.delete("u", value);
  });
  assert.deepEqual(seen, ["a", "b", "c"]);
  assert.equal(groups.keyCount, 0);
});
