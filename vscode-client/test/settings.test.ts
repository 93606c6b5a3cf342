import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULTS, changeConcernsServer, changeNeedsRestart, toServerSettings } from "../src/settings";

/** A getter over flat VS Code keys under "dify." like config.get(key). */
function getter(values: Record<string, unknown>) {
  return (key: string) => values[key];
}

describe("toServerSettings", () => {
  it("maps every dify.* setting onto the contract's settings object", () => {
    const s = toServerSettings(
      getter({
        python: "~/py312/bin/python",
        "run.backend": "openai",
        "run.timeout": 15,
        "run.validateCredentials": true,
        "run.credentialType": "oauth",
        "run.toolPlugins": ["~/plugins/search", " "],
        "run.openai.baseUrl": "http://127.0.0.1:8000/v1",
        "run.openai.apiKeyEnv": "MY_KEY",
        "run.openai.models": { llm: "gpt-x", "text-embedding": "emb-y" },
        "diagnostics.files": true,
        "diagnostics.schema": false,
        "diagnostics.python": true,
        "diagnostics.permissions": false,
        select: ["DL2"],
        extendSelect: ["DL020"],
        ignore: ["DL209", 3],
        marketplace: true,
        cache: false,
        debounceMs: 0,
        locale: "ja_JP",
        "server.path": "/should/not/be/sent",
        "trace.server": "verbose",
      }),
      (p) => p.replace("~", "/home/u"),
    );
    assert.deepEqual(s, {
      python: "/home/u/py312/bin/python",
      run: {
        backend: "openai",
        timeout: 15,
        validateCredentials: true,
        credentialType: "oauth",
        toolPlugins: ["/home/u/plugins/search"],
        openai: { baseUrl: "http://127.0.0.1:8000/v1", apiKeyEnv: "MY_KEY", models: { llm: "gpt-x", "text-embedding": "emb-y" } },
      },
      diagnostics: { files: true, schema: false, python: true, permissions: false },
      select: ["DL2"],
      extendSelect: ["DL020"],
      ignore: ["DL209"],
      marketplace: true,
      cache: false,
      debounceMs: 0,
      locale: "ja_JP",
    });
    assert.equal(JSON.stringify(s).includes("should/not"), false);
    assert.equal(JSON.stringify(s).includes("verbose"), false);
  });

  it("fills every key with its default when nothing is set (so removing a setting resets it on the server)", () => {
    assert.deepEqual(toServerSettings(getter({})), DEFAULTS);
    assert.equal(toServerSettings(getter({ python: "   " })).python, null);
  });

  it("ignores invalid values instead of sending them", () => {
    const s = toServerSettings(
      getter({ "run.backend": "gpt", "run.timeout": -3, "run.openai.models": ["x"], "diagnostics.python": "no", "run.openai.baseUrl": 42 }),
    );
    assert.equal(s.run.backend, "mock");
    assert.equal(s.run.timeout, 60);
    assert.deepEqual(s.run.openai.models, DEFAULTS.run.openai.models);
    assert.equal(s.diagnostics.python, true);
    assert.equal(s.run.openai.baseUrl, DEFAULTS.run.openai.baseUrl);
    const t = toServerSettings(getter({ "run.credentialType": "password", "run.validateCredentials": "yes", "run.toolPlugins": "/p", debounceMs: -1, locale: "  " }));
    assert.equal(t.run.credentialType, "api-key");
    assert.equal(t.run.validateCredentials, false);
    assert.deepEqual(t.run.toolPlugins, []);
    assert.equal(t.debounceMs, 200);
    assert.equal(t.locale, null);
  });

  it("keeps only string model names and accepts a numeric string timeout", () => {
    const s = toServerSettings(getter({ "run.openai.models": { llm: "m1", rerank: 3, "text-embedding": "" }, "run.timeout": "30" }));
    assert.deepEqual(s.run.openai.models, { llm: "m1" });
    assert.equal(s.run.timeout, 30);
  });

  it("does not share the defaults object with callers", () => {
    const s = toServerSettings(getter({}));
    s.run.openai.models.llm = "changed";
    assert.equal(DEFAULTS.run.openai.models.llm, "gpt-4o-mini");
  });
});

describe("configuration changes", () => {
  const affects = (changed: string) => (key: string) => changed === key || changed.startsWith(key + ".");
  it("restarts only for the server path", () => {
    assert.equal(changeNeedsRestart(affects("dify.server.path")), true);
    assert.equal(changeNeedsRestart(affects("dify.run.backend")), false);
    assert.equal(changeNeedsRestart(affects("dify.trace.server")), false);
  });
  it("pushes server settings, not client-only ones", () => {
    assert.equal(changeConcernsServer(affects("dify.run.openai.baseUrl")), true);
    assert.equal(changeConcernsServer(affects("dify.diagnostics.schema")), true);
    assert.equal(changeConcernsServer(affects("dify.python")), true);
    assert.equal(changeConcernsServer(affects("dify.run.toolPlugins")), true);
    assert.equal(changeConcernsServer(affects("dify.ignore")), true);
    assert.equal(changeConcernsServer(affects("dify.locale")), true);
    assert.equal(changeConcernsServer(affects("dify.trace.server")), false);
    assert.equal(changeConcernsServer(affects("editor.fontSize")), false);
  });
});
