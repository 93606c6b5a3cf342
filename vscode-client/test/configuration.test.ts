import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { CLIENT_ONLY_KEYS, DEFAULTS, FAMILIES, SERVER_SECTIONS, toServerSettings } from "../src/settings";

// Compiled to out/test/: the extension's folder is two up, the repository three.
const extensionDir = path.resolve(__dirname, "..", "..");
const packageJson = JSON.parse(fs.readFileSync(path.join(extensionDir, "package.json"), "utf8"));
const readme = fs.readFileSync(path.join(extensionDir, "..", "README.md"), "utf8");
const properties: Record<string, { default?: unknown }> = packageJson.contributes.configuration.properties;

/** The README's "Settings" table (the server's own list of what it reads): key -> default cell. */
function readmeSettings(): Map<string, string> {
  const section = readme.split(/^### Settings$/m)[1];
  assert.ok(section, "README.md has a ### Settings section");
  const rows = section.split(/^#/m)[0].split("\n").filter((l) => l.startsWith("| `"));
  const out = new Map<string, string>();
  for (const row of rows) {
    const [keys, defaultCell] = row.split("|").slice(1, 3).map((c) => c.trim());
    for (const key of keys.match(/`[^`]+`/g) ?? []) {
      const name = key.slice(1, -1);
      const expanded = name === "diagnostics.<family>" ? FAMILIES.map((f) => `diagnostics.${f}`) : [name];
      for (const k of expanded) {
        assert.equal(out.has(k), false, `README lists ${k} once`);
        out.set(k, defaultCell);
      }
    }
  }
  return out;
}

/** A README default cell that is one literal (`60`, `true`, `[]`, `mock`); undefined for a description. */
function literal(cell: string): { value: unknown } | undefined {
  const m = /^`([^`]*)`$/.exec(cell);
  if (!m) {
    return undefined;
  }
  try {
    return { value: JSON.parse(m[1]) };
  } catch {
    return { value: m[1] };
  }
}

/** The leaves of the settings object the client sends (an object-valued setting such as models is one leaf). */
function leaves(value: Record<string, unknown>, prefix = ""): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [k, v] of Object.entries(value)) {
    const key = prefix + k;
    if (v && typeof v === "object" && !Array.isArray(v) && key !== "run.openai.models") {
      for (const [kk, vv] of leaves(v as Record<string, unknown>, key + ".")) {
        out.set(kk, vv);
      }
    } else {
      out.set(key, v);
    }
  }
  return out;
}

describe("package.json contributes.configuration", () => {
  const server = readmeSettings();
  const declared = Object.keys(properties)
    .map((k) => k.replace(/^dify\./, ""))
    .filter((k) => !(CLIENT_ONLY_KEYS as readonly string[]).includes(k));

  it("declares every setting the server reads, and no other server setting", () => {
    assert.ok(server.size >= 15, `the README table was read (${server.size} keys)`);
    assert.deepEqual([...declared].sort(), [...server.keys()].sort());
  });

  it("gives each the server's default", () => {
    for (const [key, cell] of server) {
      const lit = literal(cell);
      if (lit !== undefined) {
        assert.deepEqual(properties[`dify.${key}`].default, lit.value, `dify.${key}`);
      }
    }
  });

  it("is what the client sends: every server key, with the same defaults", () => {
    const sent = leaves(toServerSettings(() => undefined) as unknown as Record<string, unknown>);
    assert.deepEqual([...sent.keys()].sort(), [...server.keys()].sort());
    for (const [key, value] of sent) {
      const declaredDefault = properties[`dify.${key}`].default;
      // an unset interpreter or language is "" in VS Code and null (the server decides) on the wire
      assert.deepEqual(value, declaredDefault === "" ? null : declaredDefault, `dify.${key}`);
    }
    assert.deepEqual(leaves(DEFAULTS as unknown as Record<string, unknown>), sent);
  });

  it("pushes a change of any server setting to the server", () => {
    const top = new Set([...server.keys()].map((k) => k.split(".")[0]));
    assert.deepEqual([...SERVER_SECTIONS].sort(), [...top].sort());
  });
});
