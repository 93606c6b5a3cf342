/**
 * Run invocation, the editor-independent part: which parameters to ask for,
 * how typed text becomes a parameter value, and how a run result reads.
 * No `vscode` import. Shapes follow notes/contracts.md (dify.listTools,
 * dify.runInvocation).
 */

export interface ToolParameter {
  name: string;
  type: string;
  required?: boolean;
  form?: string;
  scope?: string;
  options?: Array<string | { value: string; label?: unknown }>;
  default?: unknown;
}

export interface ToolInfo {
  provider: string;
  tool: string;
  yaml_uri?: string;
  python_uri?: string;
  parameters?: ToolParameter[];
}

export interface TranscriptEntry {
  type: string;
  request?: unknown;
  response?: unknown;
  error?: unknown;
  duration_ms?: number;
}

export interface RunResult {
  status: "success" | "error" | "timeout" | "cancelled" | string;
  tool?: string;
  provider?: string;
  backend?: string;
  messages?: Array<Record<string, unknown>>;
  text?: string;
  transcript?: TranscriptEntry[];
  warnings?: string[];
  error?: { type?: string; message?: string; traceback?: string } | null;
  duration_ms?: number;
  /** With error.type "MissingCredentials": the required credentials, settings or subscription properties the run lacked. */
  missingCredentials?: MissingCredential[];
  /** A debug run: where the plugin's debugpy listened. */
  debug?: { host?: string; port?: number } | null;
}

/** A required value the server refused to run without (dify_lsp.invocation.kinds): a credential, an endpoint
 * setting or a trigger subscription property, each of any plugin kind. */
export interface MissingCredential {
  name: string;
  label?: string;
  type?: string | null;
  secret?: boolean;
  /** The request argument the value goes back in: credentials (default), parameters or subscription. */
  argument?: "credentials" | "parameters" | "subscription" | string;
}

/** The request argument a missing value is sent back in. */
export function argumentOf(c: MissingCredential): string {
  return c.argument === "parameters" || c.argument === "subscription" ? c.argument : "credentials";
}

function record(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** Parameter types a quick input can ask for; the rest (model-selector, files, ...) the server fills in. */
const ASKABLE = new Set(["string", "text-input", "secret-input", "number", "boolean", "select", "paragraph"]);

export function askableParameters(tool: ToolInfo): ToolParameter[] {
  return (tool.parameters ?? []).filter((p) => ASKABLE.has(p.type));
}

export function isSecret(p: ToolParameter): boolean {
  return p.type === "secret-input";
}

export function optionValues(p: ToolParameter): string[] {
  return (p.options ?? []).map((o) => (typeof o === "string" ? o : String(o.value)));
}

export type Coerced = { ok: true; value: unknown } | { ok: false; message: string } | { ok: true; value: undefined; omitted: true };

/** Turns what the user typed into the parameter's value. Empty input omits an optional parameter. */
export function coerceParameter(p: ToolParameter, text: string): Coerced {
  const trimmed = text.trim();
  if (trimmed === "") {
    if (p.required) {
      return { ok: false, message: `${p.name} is required` };
    }
    return { ok: true, value: undefined, omitted: true };
  }
  switch (p.type) {
    case "number": {
      const n = Number(trimmed);
      return Number.isFinite(n) ? { ok: true, value: n } : { ok: false, message: `${p.name} must be a number` };
    }
    case "boolean": {
      const lower = trimmed.toLowerCase();
      if (["true", "yes", "1", "on"].includes(lower)) {
        return { ok: true, value: true };
      }
      if (["false", "no", "0", "off"].includes(lower)) {
        return { ok: true, value: false };
      }
      return { ok: false, message: `${p.name} must be true or false` };
    }
    case "select": {
      const values = optionValues(p);
      return values.length === 0 || values.includes(trimmed)
        ? { ok: true, value: trimmed }
        : { ok: false, message: `${p.name} must be one of: ${values.join(", ")}` };
    }
    default:
      return { ok: true, value: text };
  }
}

/** Label of a tool in the picker. */
export function toolLabel(t: ToolInfo): string {
  return `${t.provider}/${t.tool}`;
}

/** The saved invocation file of a tool (relative to the plugin root), per dify_lsp.invocation.parameters. */
export function savedInvocationRelPath(tool: string): string {
  return `.dify/invocations/${tool}.yaml`;
}

function pretty(value: unknown): string {
  if (value === undefined) {
    return "";
  }
  if (typeof value === "string") {
    return value;
  }
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

function messageBody(m: Record<string, unknown>): unknown {
  const { type: _type, ...rest } = m;
  if ("message" in rest && Object.keys(rest).length === 1) {
    return rest.message;
  }
  return rest;
}

function messageSummary(m: Record<string, unknown>): string {
  const body = messageBody(m);
  if (body && typeof body === "object" && "text" in (body as Record<string, unknown>) && typeof (body as Record<string, unknown>).text === "string") {
    return (body as Record<string, string>).text;
  }
  return pretty(body);
}

/** A title for the result panel. */
export function resultTitle(r: RunResult): string {
  return `Dify run: ${r.tool ?? "tool"} (${r.status})`;
}

/** Plain-text rendering, for the output channel. */
export function renderRunResultText(r: RunResult): string {
  const out: string[] = [];
  out.push(`Run invocation ${r.provider ? r.provider + "/" : ""}${r.tool ?? ""}: ${r.status}` + (r.backend ? ` (backend ${r.backend})` : "") + (r.duration_ms !== undefined ? ` in ${r.duration_ms} ms` : ""));
  if (r.text) {
    out.push("Answer:", indent(r.text));
  }
  for (const m of r.messages ?? []) {
    if (m.type !== "text") {
      out.push(`Message (${String(m.type)}):`, indent(messageSummary(m)));
    }
  }
  for (const w of r.warnings ?? []) {
    out.push(`Warning: ${w}`);
  }
  for (const t of r.transcript ?? []) {
    out.push(`Reverse invocation ${t.type}${t.duration_ms !== undefined ? ` (${t.duration_ms} ms)` : ""}${t.error ? ": error " + pretty(t.error) : ""}`);
  }
  if (r.error) {
    out.push(`Error: ${r.error.type ?? "Error"}: ${r.error.message ?? ""}`);
    if (r.error.traceback) {
      out.push(indent(r.error.traceback));
    }
  }
  return out.join("\n");
}

function indent(s: string): string {
  return s
    .split(/\r?\n/)
    .map((l) => "    " + l)
    .join("\n");
}

const STATUS_CLASS: Record<string, string> = { success: "ok", error: "bad", timeout: "bad", cancelled: "warn" };

/**
 * The result as a self-contained HTML page (no scripts; every value escaped).
 * `cspSource` is the webview's CSP source.
 */
export function renderRunResultHtml(r: RunResult, cspSource = "'none'"): string {
  const e = (s: unknown) => escapeHtml(typeof s === "string" ? s : pretty(s));
  const parts: string[] = [];
  const statusClass = STATUS_CLASS[r.status] ?? "warn";
  parts.push(
    `<h1>${e(r.provider ? `${r.provider}/${r.tool ?? ""}` : r.tool ?? "Run invocation")} <span class="status ${statusClass}">${e(r.status)}</span></h1>`,
  );
  const meta: string[] = [];
  if (r.backend) {
    meta.push(`backend <b>${e(r.backend)}</b>`);
  }
  if (r.duration_ms !== undefined) {
    meta.push(`${e(String(r.duration_ms))} ms`);
  }
  if (meta.length) {
    parts.push(`<p class="meta">${meta.join(" · ")}</p>`);
  }
  if (r.error) {
    parts.push(`<section class="error"><h2>Error</h2><p><b>${e(r.error.type ?? "Error")}</b>: ${e(r.error.message ?? "")}</p>`);
    if (r.error.traceback) {
      parts.push(`<pre class="traceback">${e(r.error.traceback)}</pre>`);
    }
    parts.push(`</section>`);
  }
  if (r.text) {
    parts.push(`<section><h2>Answer</h2><pre class="answer">${e(r.text)}</pre></section>`);
  }
  const messages = r.messages ?? [];
  parts.push(`<section><h2>Tool messages (${messages.length})</h2>`);
  if (messages.length === 0) {
    parts.push(`<p class="empty">The tool yielded no messages.</p>`);
  } else {
    parts.push(`<ol class="messages">`);
    for (const m of messages) {
      parts.push(`<li><span class="tag">${e(String(m.type ?? "?"))}</span><pre>${e(messageSummary(m))}</pre></li>`);
    }
    parts.push(`</ol>`);
  }
  parts.push(`</section>`);
  if (r.warnings && r.warnings.length) {
    parts.push(`<section><h2>Warnings</h2><ul class="warnings">${r.warnings.map((w) => `<li>${e(w)}</li>`).join("")}</ul></section>`);
  }
  const transcript = r.transcript ?? [];
  parts.push(`<section><h2>Reverse invocations (${transcript.length})</h2>`);
  if (transcript.length === 0) {
    parts.push(`<p class="empty">The plugin called nothing back.</p>`);
  } else {
    for (const t of transcript) {
      parts.push(
        `<details class="invoke"><summary><span class="tag">${e(t.type)}</span>` +
          (t.duration_ms !== undefined ? ` ${e(String(t.duration_ms))} ms` : "") +
          (t.error ? ` <span class="status bad">error</span>` : "") +
          `</summary>` +
          `<h3>Request</h3><pre>${e(t.request)}</pre>` +
          (t.response !== undefined && t.response !== null ? `<h3>Response</h3><pre>${e(t.response)}</pre>` : "") +
          (t.error ? `<h3>Error</h3><pre>${e(t.error)}</pre>` : "") +
          `</details>`,
      );
    }
  }
  parts.push(`</section>`);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${cspSource} 'unsafe-inline';">
<title>${e(resultTitle(r))}</title>
<style>
body { font-family: var(--vscode-font-family, sans-serif); color: var(--vscode-foreground, #222); padding: 0 1em 2em; }
h1 { font-size: 1.3em; } h2 { font-size: 1.1em; margin-top: 1.2em; } h3 { font-size: 0.95em; margin: 0.6em 0 0.2em; }
pre { white-space: pre-wrap; word-break: break-word; background: var(--vscode-textCodeBlock-background, #f3f3f3); padding: 0.5em; margin: 0.2em 0; font-family: var(--vscode-editor-font-family, monospace); }
.status { font-size: 0.75em; padding: 0.1em 0.5em; border-radius: 0.8em; vertical-align: middle; color: #fff; }
.ok { background: #2e7d32; } .bad { background: #c62828; } .warn { background: #ef6c00; }
.tag { font-family: var(--vscode-editor-font-family, monospace); font-weight: bold; }
.meta, .empty { opacity: 0.8; }
.error pre.traceback { border-left: 3px solid #c62828; }
details.invoke { margin: 0.3em 0; } summary { cursor: pointer; }
ol.messages li { margin-bottom: 0.4em; }
</style></head>
<body>
${parts.join("\n")}
</body></html>`;
}

/** The credentials a result says are missing; empty when the run did not stop for that. */
export function missingCredentials(r: RunResult | undefined): MissingCredential[] {
  if (!r || r.error?.type !== "MissingCredentials" || !Array.isArray(r.missingCredentials)) {
    return [];
  }
  return r.missingCredentials.filter((c) => c && typeof c.name === "string" && c.name !== "");
}

/** Asks for one credential; undefined when the user cancels. */
export type CredentialAsker = (c: MissingCredential) => PromiseLike<string | undefined>;

/**
 * Credentials typed in during this session, per provider. Kept in memory only (never written to
 * settings, state or logs) so that the next run of the same provider does not ask again.
 */
export class SessionCredentials {
  private readonly byProvider = new Map<string, Record<string, string>>();

  get(provider: string): Record<string, string> {
    return { ...(this.byProvider.get(provider) ?? {}) };
  }

  remember(provider: string, values: Record<string, string>): void {
    this.byProvider.set(provider, { ...(this.byProvider.get(provider) ?? {}), ...values });
  }

  forget(provider: string): void {
    this.byProvider.delete(provider);
  }
}

function providerKey(request: Record<string, unknown>, result?: RunResult): string {
  if (typeof request.provider === "string" && request.provider) {
    return request.provider;
  }
  return typeof result?.provider === "string" ? result.provider : "";
}

/**
 * Runs `request` through `send`; when the server answers that required credentials are missing, asks for
 * each (`ask`, masked when the credential is a secret) and runs again with them. Credentials given in the
 * request win over remembered ones. Stops (returning the server's answer) when the user cancels a prompt
 * or when the server still misses a credential that was just given.
 */
export async function runAskingCredentials(
  request: Record<string, unknown>,
  send: (request: Record<string, unknown>) => Promise<RunResult>,
  ask: CredentialAsker,
  session: SessionCredentials,
): Promise<RunResult> {
  let credentials: Record<string, unknown> = { ...session.get(providerKey(request)), ...record(request.credentials) };
  // settings and subscription properties asked for go back where the server named them (never remembered)
  const extra: Record<string, Record<string, unknown>> = {
    parameters: { ...record(request.parameters) },
    subscription: { ...record(request.subscription) },
  };
  const asked = new Set<string>();
  for (;;) {
    const attempt: Record<string, unknown> = Object.keys(credentials).length ? { ...request, credentials } : { ...request };
    for (const key of ["parameters", "subscription"]) {
      if (Object.keys(extra[key]).length) {
        attempt[key] = extra[key];
      }
    }
    const result = await send(attempt);
    const missing = missingCredentials(result);
    if (missing.length === 0 || missing.some((c) => asked.has(`${argumentOf(c)}:${c.name}`))) {
      return result;
    }
    const typed: Record<string, string> = {};
    for (const c of missing) {
      const value = await ask(c);
      if (value === undefined) {
        return result;
      }
      asked.add(`${argumentOf(c)}:${c.name}`);
      if (argumentOf(c) === "credentials") {
        typed[c.name] = value;
      } else {
        extra[argumentOf(c)][c.name] = value;
      }
    }
    if (Object.keys(typed).length) {
      session.remember(providerKey(request, result), typed);
      credentials = { ...credentials, ...typed };
    }
  }
}

/** The input box of one missing credential (for window.showInputBox). */
export function credentialPrompt(c: MissingCredential, provider?: string): { title: string; prompt: string; password: boolean; ignoreFocusOut: boolean } {
  const label = typeof c.label === "string" && c.label ? c.label : c.name;
  return {
    title: argumentOf(c) === "credentials"
      ? `Dify: credential ${c.name}${provider ? ` of provider ${provider}` : ""}`
      : argumentOf(c) === "subscription" ? `Dify: subscription property ${c.name}` : `Dify: setting ${c.name}`,
    prompt: label,
    password: c.secret === true,
    ignoreFocusOut: true,
  };
}

/** A debug run's attach configuration for the Python Debugger extension (ms-python.debugpy). */
export function debugAttachConfiguration(host: string, port: number, label: string): Record<string, unknown> {
  return {
    type: "debugpy",
    request: "attach",
    name: `Dify: debug ${label}`,
    connect: { host, port },
    justMyCode: true,
  };
}

/** The label of a run request (a tool, an endpoint's request line, a model...). */
export function requestLabel(request: Record<string, unknown>): string {
  for (const key of ["tool", "endpoint", "strategy", "model", "datasource", "trigger"]) {
    if (typeof request[key] === "string" && request[key]) {
      return request[key] as string;
    }
  }
  return typeof request.kind === "string" ? request.kind : "run";
}
