import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  MissingCredential,
  RunResult,
  SessionCredentials,
  ToolInfo,
  askableParameters,
  coerceParameter,
  credentialPrompt,
  debugAttachConfiguration,
  missingCredentials,
  requestLabel,
  renderRunResultHtml,
  renderRunResultText,
  runAskingCredentials,
  savedInvocationRelPath,
} from "../src/run";

const tool: ToolInfo = {
  provider: "llm",
  tool: "llm",
  parameters: [
    { name: "prompt", type: "string", required: true, form: "llm" },
    { name: "model", type: "model-selector", required: true, form: "form", scope: "llm" },
    { name: "n", type: "number", form: "form" },
    { name: "mode", type: "select", form: "form", options: [{ value: "fast" }, "slow"] },
    { name: "token", type: "secret-input", form: "form" },
  ],
};

describe("parameters", () => {
  it("asks for plain types only and leaves model selectors to the server", () => {
    assert.deepEqual(askableParameters(tool).map((p) => p.name), ["prompt", "n", "mode", "token"]);
  });
  it("coerces typed text by parameter type", () => {
    const [prompt, , n, mode] = tool.parameters!;
    assert.deepEqual(coerceParameter(prompt, "  hello "), { ok: true, value: "  hello " });
    assert.deepEqual(coerceParameter(prompt, ""), { ok: false, message: "prompt is required" });
    assert.deepEqual(coerceParameter(n, "3.5"), { ok: true, value: 3.5 });
    assert.equal(coerceParameter(n, "abc").ok, false);
    assert.deepEqual(coerceParameter(n, ""), { ok: true, value: undefined, omitted: true });
    assert.deepEqual(coerceParameter(mode, "slow"), { ok: true, value: "slow" });
    assert.deepEqual(coerceParameter(mode, "medium"), { ok: false, message: "mode must be one of: fast, slow" });
    assert.deepEqual(coerceParameter({ name: "b", type: "boolean" }, "Yes"), { ok: true, value: true });
    assert.equal(coerceParameter({ name: "b", type: "boolean" }, "maybe").ok, false);
  });
  it("knows where the server keeps saved invocations", () => {
    assert.equal(savedInvocationRelPath("llm"), ".dify/invocations/llm.yaml");
  });
});

const result: RunResult = {
  status: "error",
  tool: "llm",
  provider: "llm",
  backend: "mock",
  messages: [
    { type: "text", message: { text: "(mock gpt-4o-mini) You said: <hi>" } },
    { type: "json", message: { json_object: { a: 1 } } },
  ],
  text: "(mock gpt-4o-mini) You said: <hi>",
  transcript: [{ type: "invoke_llm", request: { model: "gpt-4o-mini" }, response: { text: "ok" }, duration_ms: 12 }],
  warnings: ["the user message has no content"],
  error: { type: "ValueError", message: "bad <value>", traceback: 'File "tools/llm.py", line 3\nValueError: bad <value>' },
  duration_ms: 150,
};

describe("result rendering", () => {
  it("shows answer, messages, transcript, warnings and the traceback, all escaped", () => {
    const html = renderRunResultHtml(result, "vscode-resource:");
    assert.match(html, /You said: &lt;hi&gt;/);
    assert.match(html, /invoke_llm/);
    assert.match(html, /&quot;model&quot;: &quot;gpt-4o-mini&quot;/);
    assert.match(html, /the user message has no content/);
    assert.match(html, /File &quot;tools\/llm.py&quot;, line 3/);
    assert.match(html, /Tool messages \(2\)/);
    assert.match(html, /Reverse invocations \(1\)/);
    assert.equal(html.includes("<hi>"), false);
    assert.equal(html.includes("bad <value>"), false);
    assert.equal(/<script/i.test(html), false);
  });
  it("says so when the tool yielded nothing and called nothing back", () => {
    const html = renderRunResultHtml({ status: "success", tool: "t", messages: [], transcript: [] });
    assert.match(html, /The tool yielded no messages/);
    assert.match(html, /The plugin called nothing back/);
  });
  it("renders a plain-text summary for the output channel", () => {
    const text = renderRunResultText(result);
    assert.match(text, /^Run invocation llm\/llm: error \(backend mock\) in 150 ms/);
    assert.match(text, /Answer:\n {4}\(mock gpt-4o-mini\) You said: <hi>/);
    assert.match(text, /Reverse invocation invoke_llm \(12 ms\)/);
    assert.match(text, /Error: ValueError: bad <value>\n {4}File "tools\/llm.py", line 3/);
  });
});

/** A server that refuses a run until `required` credentials are all non-empty, as dify_lsp.invocation.parameters does. */
function fakeServer(required: MissingCredential[]) {
  const requests: Array<Record<string, unknown>> = [];
  const send = async (request: Record<string, unknown>): Promise<RunResult> => {
    requests.push(request);
    const given = (request.credentials ?? {}) as Record<string, unknown>;
    const missing = required.filter((c) => given[c.name] === undefined || given[c.name] === "");
    if (missing.length) {
      return { status: "error", tool: "search", provider: "acme", error: { type: "MissingCredentials", message: "missing" }, missingCredentials: missing };
    }
    return { status: "success", tool: "search", provider: "acme", text: "ok" };
  };
  return { send, requests };
}

const API_KEY: MissingCredential = { name: "api_key", label: "API Key", type: "secret-input", secret: true };
const REGION: MissingCredential = { name: "region", label: "Region", type: "text-input", secret: false };

describe("missing credentials", () => {
  it("asks for each missing credential, masked only for secrets, and runs again with them", async () => {
    const server = fakeServer([API_KEY, REGION]);
    const asked: MissingCredential[] = [];
    const answers: Record<string, string> = { api_key: "sk-123", region: "eu" };
    const session = new SessionCredentials();
    const result = await runAskingCredentials({ uri: "file:///p/tools/search.yaml", tool: "search", provider: "acme" }, server.send, async (c) => {
      asked.push(c);
      return answers[c.name];
    }, session);
    assert.equal(result.status, "success");
    assert.deepEqual(asked.map((c) => c.name), ["api_key", "region"]);
    assert.equal(server.requests.length, 2);
    assert.equal(server.requests[0].credentials, undefined);
    assert.deepEqual(server.requests[1].credentials, { api_key: "sk-123", region: "eu" });
    assert.deepEqual(credentialPrompt(API_KEY, "acme"), { title: "Dify: credential api_key of provider acme", prompt: "API Key", password: true, ignoreFocusOut: true });
    assert.equal(credentialPrompt(REGION).password, false);
    assert.equal(credentialPrompt({ name: "token" }).prompt, "token");
  });

  it("remembers them for the session: the next run of the provider does not ask; the request's own win", async () => {
    const session = new SessionCredentials();
    session.remember("acme", { api_key: "sk-old", region: "us" });
    const server = fakeServer([API_KEY, REGION]);
    const result = await runAskingCredentials({ tool: "search", provider: "acme", credentials: { region: "eu" } }, server.send, async () => {
      throw new Error("must not ask");
    }, session);
    assert.equal(result.status, "success");
    assert.deepEqual(server.requests, [{ tool: "search", provider: "acme", credentials: { api_key: "sk-old", region: "eu" } }]);
    assert.deepEqual(session.get("other"), {});
  });

  it("stops with the server's answer when the user cancels a prompt", async () => {
    const server = fakeServer([API_KEY, REGION]);
    const session = new SessionCredentials();
    const result = await runAskingCredentials({ tool: "search", provider: "acme" }, server.send, async (c) => (c.name === "api_key" ? "sk-1" : undefined), session);
    assert.equal(result.error?.type, "MissingCredentials");
    assert.equal(server.requests.length, 1);
    assert.deepEqual(session.get("acme"), {}, "nothing half-typed is kept");
  });

  it("does not loop when the server still misses a credential just given", async () => {
    const server = fakeServer([API_KEY]);
    let asks = 0;
    const result = await runAskingCredentials({ tool: "search", provider: "acme" }, server.send, async () => {
      asks += 1;
      return "";
    }, new SessionCredentials());
    assert.equal(result.error?.type, "MissingCredentials");
    assert.equal(asks, 1);
    assert.equal(server.requests.length, 2);
  });

  it("sends an endpoint setting back in parameters and a subscription property in subscription, never remembered", async () => {
    const requests: Array<Record<string, unknown>> = [];
    const SETTING: MissingCredential = { name: "api_key", label: "API key", type: "secret-input", secret: true, argument: "parameters" };
    const SECRET: MissingCredential = { name: "signing_secret", type: "secret-input", secret: true, argument: "subscription" };
    const send = async (request: Record<string, unknown>): Promise<RunResult> => {
      requests.push(JSON.parse(JSON.stringify(request)));
      const params = (request.parameters ?? {}) as Record<string, unknown>;
      const sub = (request.subscription ?? {}) as Record<string, unknown>;
      const missing = [...(params.api_key ? [] : [SETTING]), ...(sub.signing_secret ? [] : [SECRET])];
      return missing.length
        ? { status: "error", error: { type: "MissingCredentials" }, missingCredentials: missing }
        : { status: "success", text: "ok" };
    };
    const session = new SessionCredentials();
    const result = await runAskingCredentials({ kind: "endpoint", endpoint: "POST /ask", parameters: { llm: "m/x" } }, send,
      async (c) => (c.name === "api_key" ? "k-1" : "s-1"), session);
    assert.equal(result.status, "success");
    assert.deepEqual(requests[1], { kind: "endpoint", endpoint: "POST /ask", parameters: { llm: "m/x", api_key: "k-1" },
      subscription: { signing_secret: "s-1" } });
    assert.deepEqual(session.get(""), {});
    assert.equal(credentialPrompt(SETTING).title, "Dify: setting api_key");
    assert.equal(credentialPrompt(SECRET).title, "Dify: subscription property signing_secret");
  });

  it("attaches the Python Debugger to a debug run's port", () => {
    assert.deepEqual(debugAttachConfiguration("127.0.0.1", 5678, "word_count"), {
      type: "debugpy", request: "attach", name: "Dify: debug word_count", connect: { host: "127.0.0.1", port: 5678 }, justMyCode: true,
    });
    assert.equal(requestLabel({ kind: "endpoint", endpoint: "POST /ask" }), "POST /ask");
    assert.equal(requestLabel({ tool: "llm" }), "llm");
  });

  it("reads only a MissingCredentials error as a request for credentials", () => {
    assert.deepEqual(missingCredentials({ status: "error", error: { type: "InvocationError" }, missingCredentials: [API_KEY] }), []);
    assert.deepEqual(missingCredentials({ status: "error", error: { type: "MissingCredentials" } }), []);
    assert.deepEqual(missingCredentials({ status: "error", error: { type: "MissingCredentials" }, missingCredentials: [API_KEY, { name: "" }] }), [API_KEY]);
  });
});
