import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RunResult, ToolInfo, askableParameters, coerceParameter, renderRunResultHtml, renderRunResultText, savedInvocationRelPath } from "../src/run";

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
