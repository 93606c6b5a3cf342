/**
 * The VS Code extension: finds and starts the dify-lsp server, keeps its
 * settings in sync, and adds the "Dify: Run invocation" and
 * "Dify: Restart language server" commands.
 *
 * vscode-languageclient registers the server's own commands
 * (dify.runInvocation, dify.listTools) itself. This extension never registers
 * those ids; it intercepts dify.runInvocation in the client's executeCommand
 * middleware so a run started from the server's code lens or code action gets
 * the same progress notification and result panel as the palette command
 * (dify.runInvocationInteractive).
 */

import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as vscode from "vscode";
import {
  CloseAction,
  DidChangeConfigurationNotification,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
} from "vscode-languageclient/node";
import { Discovery, ServerLaunch, discoverServer, expandPath, notFoundMessage } from "./discovery";
import {
  MissingCredential,
  RunResult,
  SessionCredentials,
  ToolInfo,
  ToolParameter,
  askableParameters,
  credentialPrompt,
  coerceParameter,
  debugAttachConfiguration,
  requestLabel,
  isSecret,
  optionValues,
  renderRunResultHtml,
  renderRunResultText,
  resultTitle,
  runAskingCredentials,
  savedInvocationRelPath,
  toolLabel,
} from "./run";
import { ServerSettings, changeConcernsServer, changeNeedsRestart, toServerSettings } from "./settings";
import { bundledServer, findPluginRoot, isFile, systemDeps } from "./system";
import { PrivateServer, UniversalBundle, ensurePrivateServer, readyPrivateServer, runCommand, universalBundle } from "./bootstrap";

export const CLIENT_ID = "dify"; // => the trace setting is "dify.trace.server"
export const SERVER_RUN_COMMAND = "dify.runInvocation"; // registered by the language client
export const SERVER_LIST_COMMAND = "dify.listTools"; // registered by the language client
export const RUN_COMMAND = "dify.runInvocationInteractive";
export const SERVER_NEW_TOOL_COMMAND = "dify.newTool"; // registered by the language client
export const NEW_TOOL_COMMAND = "dify.newToolInteractive";
/** identity.name of a tool, as the daemon checks it. */
export const TOOL_NAME_PATTERN = /^[A-Za-z0-9_-]+$/;
export const RESTART_COMMAND = "dify.restartServer";
export const SHOW_OUTPUT_COMMAND = "dify.showOutput";
/** The server's "Debug" code lens names this client command: free port, run with `debug`, attach. */
export const DEBUG_COMMAND = "dify.debugInvocation";
export const DEBUGPY_EXTENSION = "ms-python.debugpy";
/** The server's notification that a debug run's debugpy listens: {host, port, uri}. */
export const DEBUG_LISTENING = "dify/debugListening";
const RESTART_DEBOUNCE_MS = 600;
const PLUGIN_GLOB = "**/manifest.yaml";
const EXCLUDE_GLOB = "**/{node_modules,.venv,.git}/**";

let state: ExtensionState | undefined;

class ExtensionState implements vscode.Disposable {
  readonly output: vscode.LogOutputChannel;
  readonly status: vscode.StatusBarItem;
  client: LanguageClient | undefined;
  launch: ServerLaunch | undefined;
  private lastNotification: string | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();
  private resultPanel: vscode.WebviewPanel | undefined;
  /** Debug runs waiting for their plugin's debugpy to listen, by port. */
  readonly debugWaiters = new Map<number, (listening: boolean) => void>();
  /** Credentials typed in for Run invocation: this window's memory only. */
  private readonly credentials = new SessionCredentials();
  private disposables: vscode.Disposable[] = [];
  started = false;

  constructor(readonly context: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel("Dify", { log: true });
    this.status = vscode.window.createStatusBarItem("dify.status", vscode.StatusBarAlignment.Left, 0);
    this.status.name = "Dify language server";
    this.status.command = SHOW_OUTPUT_COMMAND;
  }

  dispose(): void {
    clearTimeout(this.restartTimer);
    for (const d of this.disposables) {
      d.dispose();
    }
    this.resultPanel?.dispose();
    this.status.dispose();
    this.output.dispose();
  }

  track(d: vscode.Disposable): void {
    this.disposables.push(d);
  }

  setStatus(kind: "starting" | "running" | "failed" | "stopped", tooltip: string): void {
    const icon = { starting: "$(sync~spin)", running: "$(check)", failed: "$(error)", stopped: "$(circle-slash)" }[kind];
    this.status.text = `${icon} dify-lsp`;
    this.status.tooltip = tooltip;
    // Screen readers (and the e2e test) read how the server was started, not only the icon.
    this.status.accessibilityInformation = { label: `dify-lsp: ${tooltip}` };
    this.status.backgroundColor = kind === "failed" ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
    this.status.show();
  }

  /** Runs start/stop steps one after another. */
  enqueue(step: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(step, step).catch((err) => this.output.error(`dify-lsp: ${errorText(err)}`));
    return this.queue;
  }

  scheduleRestart(reason: string): void {
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      this.output.info(`Restarting the language server: ${reason}`);
      void this.enqueue(() => this.restart());
    }, RESTART_DEBOUNCE_MS);
  }

  serverSettings(resource?: vscode.Uri): ServerSettings {
    const config = vscode.workspace.getConfiguration("dify", resource);
    return toServerSettings((key) => config.get(key), (p) => expandPath(p, expandContext()));
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.stop(3000);
      } catch (err) {
        this.output.warn(`Stopping the language server: ${errorText(err)}`);
      }
      try {
        await client.dispose(1000);
      } catch {
        // already gone
      }
      this.setStatus("stopped", "dify-lsp is stopped");
    }
  }

  async start(): Promise<void> {
    this.started = true;
    this.setStatus("starting", "Looking for the dify-lsp language server...");
    const discovery = await this.discover();
    for (const line of discovery.tried) {
      this.output.info(`server discovery: ${line}`);
    }
    if (!discovery.ok) {
      const message = notFoundMessage(discovery);
      this.output.error(message);
      this.setStatus("failed", message);
      this.notifyOnce(message);
      return;
    }
    this.lastNotification = undefined;
    const launch = discovery.launch;
    this.launch = launch;
    this.output.info(`Starting ${launch.description}`);
    const client = this.createClient(launch);
    this.client = client;
    try {
      await client.start();
      client.onNotification(DEBUG_LISTENING, (params: { port?: number }) => {
        const waiter = typeof params?.port === "number" ? this.debugWaiters.get(params.port) : undefined;
        waiter?.(true);
      });
      const version = client.initializeResult?.serverInfo?.version;
      this.setStatus("running", `dify-lsp ${version ?? ""} running: ${launch.description}`);
      this.output.info(`dify-lsp ${version ?? ""} is running`);
    } catch (err) {
      // The language client has shown its own error (with "Go to output"): no second notification.
      this.output.error(`The language server did not start: ${errorText(err)}`);
      this.setStatus("failed", `dify-lsp did not start: ${errorText(err)}`);
    }
  }

  private notifyOnce(message: string): void {
    if (this.lastNotification === message) {
      return; // the same problem again (e.g. after a settings change): one notification is enough
    }
    this.lastNotification = message;
    void vscode.window.showErrorMessage(message, "Show output", "Open settings").then((choice) => {
      if (choice === "Show output") {
        this.output.show(true);
      } else if (choice === "Open settings") {
        void vscode.commands.executeCommand("workbench.action.openSettings", "dify.server.path");
      }
    });
  }

  private async discover(): Promise<Discovery> {
    const config = vscode.workspace.getConfiguration("dify");
    const serverPath = expandPath(config.get<string>("server.path"), expandContext(), process.env);
    const py = await pythonExtensionInterpreter();
    const bundled = bundledServer(this.context.extensionPath);
    const universal = serverPath || bundled ? undefined : universalBundle(this.context.extensionPath);
    const own = universal ? await this.installPrivateServer(universal, py.interpreter) : undefined;
    return discoverServer(
      {
        serverPath,
        pythonExtensionInstalled: py.installed,
        pythonExtensionInterpreter: py.interpreter,
        bundledServer: bundled,
        privateServer: own?.python ? { python: own.python, envDir: own.envDir } : undefined,
        privateServerProblem: own?.problem,
      },
      systemDeps,
    );
  }

  /** The universal package: its server in a private environment, installed on first start (bootstrap.ts). */
  private async installPrivateServer(bundle: UniversalBundle, selected?: string): Promise<PrivateServer> {
    const candidates = [selected, systemDeps.which("python3"), systemDeps.which("python")].filter((p): p is string => !!p);
    const storageDir = this.context.globalStorageUri.fsPath;
    const ensure = (report: (message: string) => void) =>
      ensurePrivateServer({
        bundle,
        storageDir,
        candidates: [...new Set(candidates)],
        report: (message) => {
          this.output.info(`private environment: ${message}`);
          report(message);
        },
        deps: { probePythonVersion: systemDeps.probePythonVersion, run: runCommand },
      });
    const result = readyPrivateServer(bundle, storageDir)
      ? await ensure(() => undefined)
      : await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: "Dify: installing the language server (first start)" },
          (progress) => ensure((message) => progress.report({ message })),
        );
    for (const line of result.tried) {
      this.output.info(line);
    }
    return result;
  }

  private createClient(launch: ServerLaunch): LanguageClient {
    const serverOptions: ServerOptions = {
      command: launch.command,
      args: launch.args,
      options: { env: { ...process.env, PYTHONUNBUFFERED: "1" } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: "file", language: "python" },
        { scheme: "file", language: "yaml" },
      ],
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: this.serverSettings(),
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue }),
        closed: () => {
          this.setStatus("failed", "dify-lsp stopped unexpectedly; run \"Dify: Restart language server\"");
          return { action: CloseAction.DoNotRestart, message: "The dify-lsp language server stopped. See the Dify output, then run \"Dify: Restart language server\"." };
        },
      },
      middleware: {
        workspace: {
          configuration: async (params, token, next) => {
            const answer = await next(params, token);
            if (!Array.isArray(answer)) {
              return answer;
            }
            return params.items.map((item, i) => {
              if (item.section === "dify") {
                const resource = item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined;
                return this.serverSettings(resource);
              }
              return answer[i];
            });
          },
        },
        executeCommand: (command, args, next) => {
          if (command === SERVER_RUN_COMMAND) {
            // From the server's code lens / code action: same UI as the palette command.
            const request = args && args[0] && typeof args[0] === "object" ? (args[0] as Record<string, unknown>) : {};
            return this.runWithProgress(request);
          }
          return next(command, args);
        },
      },
    };
    return new LanguageClient(CLIENT_ID, "Dify Language Server", serverOptions, clientOptions);
  }

  /** Sends the current settings to a running server. */
  pushSettings(): void {
    const client = this.client;
    if (client && client.state === State.Running) {
      void client.sendNotification(DidChangeConfigurationNotification.type, { settings: { dify: this.serverSettings() } });
    }
  }

  runningClient(): LanguageClient | undefined {
    const client = this.client;
    if (!client || client.state !== State.Running) {
      void vscode.window
        .showWarningMessage("The dify-lsp language server is not running.", "Show output", "Restart")
        .then((choice) => {
          if (choice === "Show output") {
            this.output.show(true);
          } else if (choice === "Restart") {
            void this.enqueue(() => this.restart());
          }
        });
      return undefined;
    }
    return client;
  }

  /** Calls the server's dify.runInvocation with a cancellable progress notification, then shows the result. */
  async runWithProgress(request: Record<string, unknown>): Promise<RunResult | undefined> {
    const client = this.runningClient();
    if (!client) {
      return undefined;
    }
    const ask = (c: MissingCredential) =>
      vscode.window.showInputBox({
        ...credentialPrompt(c, typeof request.provider === "string" ? request.provider : undefined),
        validateInput: (v) => (v.trim() === "" ? `${c.name} is required` : undefined),
      });
    const result = await runAskingCredentials(request, (r) => this.sendRun(client, r), ask, this.credentials);
    if (result && typeof result === "object") {
      this.showResult(result);
    }
    return result;
  }

  /**
   * "⚙ Debug": runs the request under debugpy on a free loopback port and attaches the Python Debugger
   * extension's `debugpy` configuration to it (offering to install the extension when it is missing).
   */
  async debugInvocation(request: Record<string, unknown>): Promise<RunResult | undefined> {
    if (!vscode.extensions.getExtension(DEBUGPY_EXTENSION)) {
      const choice = await vscode.window.showInformationMessage(
        "Dify: debugging a plugin needs the Python Debugger extension (ms-python.debugpy).", "Install");
      if (choice === "Install") {
        await vscode.commands.executeCommand("workbench.extensions.installExtension", DEBUGPY_EXTENSION);
      }
      if (!vscode.extensions.getExtension(DEBUGPY_EXTENSION)) {
        return undefined;
      }
    }
    const host = "127.0.0.1";
    const port = await freePort();
    // the server says when the plugin's debugpy listens (a probe connection would take its one debugger slot)
    const listening = this.debugListening(port);
    const run = this.runWithProgress({ ...request, debug: { host, port } });
    const attach = await Promise.race([listening.promise, run.then(() => false, () => false)]);
    listening.dispose();
    if (attach) {
      const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.parse(String(request.uri ?? "")));
      await vscode.debug.startDebugging(folder, debugAttachConfiguration(host, port, requestLabel(request)) as vscode.DebugConfiguration);
    }
    return await run;
  }

  /** Resolves true when the server notifies that the debug run on `port` listens. */
  debugListening(port: number): { promise: Promise<boolean>; dispose: () => void } {
    let resolve: (v: boolean) => void = () => undefined;
    const promise = new Promise<boolean>((r) => (resolve = r));
    this.debugWaiters.set(port, resolve);
    return { promise, dispose: () => this.debugWaiters.delete(port) };
  }

  /** One dify.runInvocation request under a cancellable progress notification (never logs the request: it may hold credentials). */
  async sendRun(client: LanguageClient, request: Record<string, unknown>): Promise<RunResult> {
    const label = requestLabel(request);
    return await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Dify: running ${label}`, cancellable: true },
      async (progress, token) => {
        progress.report({ message: "starting the plugin..." });
        try {
          return (await client.sendRequest(
            ExecuteCommandRequest.type,
            { command: SERVER_RUN_COMMAND, arguments: [request] },
            token,
          )) as RunResult;
        } catch (err) {
          if (token.isCancellationRequested) {
            return { status: "cancelled", tool: label, error: { type: "Cancelled", message: "The run was cancelled." } } as RunResult;
          }
          return { status: "error", tool: label, error: { type: "RequestFailed", message: errorText(err) } } as RunResult;
        }
      },
    );
  }

  showResult(result: RunResult): void {
    this.output.info(renderRunResultText(result));
    if (!this.resultPanel) {
      this.resultPanel = vscode.window.createWebviewPanel("difyRunResult", resultTitle(result), { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
        enableScripts: false,
        retainContextWhenHidden: true,
      });
      this.resultPanel.onDidDispose(() => (this.resultPanel = undefined));
    }
    this.resultPanel.title = resultTitle(result);
    this.resultPanel.webview.html = renderRunResultHtml(result, this.resultPanel.webview.cspSource);
    this.resultPanel.reveal(vscode.ViewColumn.Beside, true);
  }

  /** "Dify: Run invocation": pick a tool, then its parameters, then run. */
  async runInteractive(): Promise<void> {
    const client = this.runningClient();
    if (!client) {
      return;
    }
    const uri = await pluginFileUri();
    if (!uri) {
      void vscode.window.showWarningMessage("No Dify plugin (a folder with manifest.yaml) is open.");
      return;
    }
    let tools: ToolInfo[];
    try {
      tools = ((await client.sendRequest(ExecuteCommandRequest.type, { command: SERVER_LIST_COMMAND, arguments: [{ uri: uri.toString() }] })) ?? []) as ToolInfo[];
    } catch (err) {
      void vscode.window.showErrorMessage(`Dify: listing the plugin's tools failed: ${errorText(err)}`);
      return;
    }
    if (!Array.isArray(tools) || tools.length === 0) {
      void vscode.window.showWarningMessage("Dify: this plugin declares no tools to run.");
      return;
    }
    const tool = await pickTool(tools, vscode.window.activeTextEditor?.document.uri);
    if (!tool) {
      return;
    }
    const toolUri = tool.yaml_uri ?? tool.python_uri ?? uri.toString();
    const parameters = await pickParameters(tool, vscode.Uri.parse(toolUri));
    if (parameters === undefined) {
      return; // cancelled
    }
    const request: Record<string, unknown> = { uri: toolUri, tool: tool.tool, provider: tool.provider };
    if (parameters !== "saved") {
      request.parameters = parameters;
    }
    await this.runWithProgress(request);
  }

  /** "Dify: New tool": asks for a name; the server creates the YAML and Python, lists the tool and opens both. */
  async newToolInteractive(): Promise<void> {
    const client = this.runningClient();
    if (!client) {
      return;
    }
    const uri = await pluginFileUri();
    if (!uri) {
      void vscode.window.showWarningMessage("No Dify plugin (a folder with manifest.yaml) is open.");
      return;
    }
    const name = await vscode.window.showInputBox({
      title: "Dify: New tool",
      prompt: "The tool's name (identity.name): tools/NAME.yaml and tools/NAME.py are created and listed in the provider",
      validateInput: (v) => (TOOL_NAME_PATTERN.test(v) ? undefined : "Use letters, digits, '_' and '-'"),
    });
    if (!name) {
      return;
    }
    try {
      const result = (await client.sendRequest(ExecuteCommandRequest.type, {
        command: SERVER_NEW_TOOL_COMMAND,
        arguments: [{ uri: uri.toString(), name }],
      })) as { status?: string; message?: string } | null;
      if (!result || result.status !== "ok") {
        void vscode.window.showErrorMessage(`Dify: New tool: ${result?.message ?? "no answer from the server"}`);
      }
    } catch (err) {
      void vscode.window.showErrorMessage(`Dify: New tool failed: ${errorText(err)}`);
    }
  }
}

/** A free loopback TCP port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    return err.message;
  }
  return String(err);
}

function expandContext(): { home: string; workspaceFolder?: string } {
  return { home: os.homedir(), workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath };
}

interface PythonExtensionInfo {
  installed: boolean;
  interpreter?: string;
}

/** The interpreter selected in the Python extension (ms-python.python), if that extension is installed. */
async function pythonExtensionInterpreter(): Promise<PythonExtensionInfo> {
  const ext = vscode.extensions.getExtension("ms-python.python");
  if (!ext) {
    return { installed: false };
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const api: any = ext.isActive ? ext.exports : await ext.activate();
    const resource = vscode.workspace.workspaceFolders?.[0]?.uri;
    if (api?.environments?.getActiveEnvironmentPath) {
      const envPath = api.environments.getActiveEnvironmentPath(resource);
      const env = await api.environments.resolveEnvironment(envPath);
      const exe: string | undefined = env?.executable?.uri?.fsPath ?? envPath?.path;
      return { installed: true, interpreter: exe };
    }
    const details = api?.settings?.getExecutionDetails?.(resource);
    return { installed: true, interpreter: details?.execCommand?.[0] };
  } catch {
    return { installed: true };
  }
}

/** A file that identifies the plugin to run: the active editor's file when it is in a plugin, else a manifest.yaml. */
async function pluginFileUri(): Promise<vscode.Uri | undefined> {
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active && active.scheme === "file" && findPluginRoot(active.fsPath)) {
    return active;
  }
  const manifests = await vscode.workspace.findFiles(PLUGIN_GLOB, EXCLUDE_GLOB, 50);
  if (manifests.length <= 1) {
    return manifests[0];
  }
  const picked = await vscode.window.showQuickPick(
    manifests.map((m) => ({ label: path.basename(path.dirname(m.fsPath)), description: vscode.workspace.asRelativePath(m), uri: m })),
    { title: "Dify: which plugin?" },
  );
  return picked?.uri;
}

async function pickTool(tools: ToolInfo[], active?: vscode.Uri): Promise<ToolInfo | undefined> {
  if (tools.length === 1) {
    return tools[0];
  }
  const activeUri = active?.toString();
  const items = tools.map((t) => ({
    label: toolLabel(t),
    description: t.yaml_uri ? vscode.workspace.asRelativePath(vscode.Uri.parse(t.yaml_uri)) : undefined,
    picked: activeUri !== undefined && (t.yaml_uri === activeUri || t.python_uri === activeUri),
    tool: t,
  }));
  items.sort((a, b) => Number(b.picked) - Number(a.picked));
  const picked = await vscode.window.showQuickPick(items, { title: "Dify: run which tool?" });
  return picked?.tool;
}

/** "saved" = let the server read the saved invocation file; an object = typed parameters; undefined = cancelled. */
async function pickParameters(tool: ToolInfo, toolUri: vscode.Uri): Promise<Record<string, unknown> | "saved" | undefined> {
  const root = toolUri.scheme === "file" ? findPluginRoot(toolUri.fsPath) : undefined;
  const rel = savedInvocationRelPath(tool.tool);
  if (root && isFile(path.join(root, rel))) {
    const choice = await vscode.window.showQuickPick(
      [
        { label: "Use the saved invocation", description: rel, value: "saved" as const },
        { label: "Enter parameters...", value: "enter" as const },
      ],
      { title: `Dify: parameters of ${tool.tool}` },
    );
    if (!choice) {
      return undefined;
    }
    if (choice.value === "saved") {
      return "saved";
    }
  }
  const values: Record<string, unknown> = {};
  for (const p of askableParameters(tool)) {
    const value = await askParameter(tool, p);
    if (value === CANCELLED) {
      return undefined;
    }
    if (value !== undefined) {
      values[p.name] = value;
    }
  }
  return values;
}

const CANCELLED = Symbol("cancelled");

async function askParameter(tool: ToolInfo, p: ToolParameter): Promise<unknown> {
  const title = `Dify: ${tool.tool} parameter "${p.name}" (${p.type}${p.required ? ", required" : ""})`;
  if (p.type === "select" || p.type === "boolean") {
    const options = p.type === "boolean" ? ["true", "false"] : optionValues(p);
    const items = [...options.map((o) => ({ label: o })), ...(p.required ? [] : [{ label: "(leave empty)" }])];
    const picked = await vscode.window.showQuickPick(items, { title });
    if (!picked) {
      return CANCELLED;
    }
    const coerced = coerceParameter(p, picked.label === "(leave empty)" ? "" : picked.label);
    return coerced.ok ? coerced.value : CANCELLED;
  }
  const text = await vscode.window.showInputBox({
    title,
    prompt: p.required ? "Required" : "Optional: leave empty to omit",
    value: p.default !== undefined && p.default !== null && !isSecret(p) ? String(p.default) : "",
    password: isSecret(p),
    ignoreFocusOut: true,
    validateInput: (v) => {
      const c = coerceParameter(p, v);
      return c.ok ? undefined : c.message;
    },
  });
  if (text === undefined) {
    return CANCELLED;
  }
  const coerced = coerceParameter(p, text);
  return coerced.ok ? coerced.value : CANCELLED;
}

/** True when a document is a Python or YAML file inside a plugin folder. */
function isPluginDocument(doc: vscode.TextDocument): boolean {
  return doc.uri.scheme === "file" && (doc.languageId === "python" || doc.languageId === "yaml") && findPluginRoot(doc.uri.fsPath) !== undefined;
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const s = new ExtensionState(context);
  state = s;
  context.subscriptions.push(s);
  context.subscriptions.push(
    vscode.commands.registerCommand(RESTART_COMMAND, () => s.enqueue(() => s.restart())),
    vscode.commands.registerCommand(RUN_COMMAND, () => s.runInteractive()),
    vscode.commands.registerCommand(NEW_TOOL_COMMAND, () => s.newToolInteractive()),
    vscode.commands.registerCommand(SHOW_OUTPUT_COMMAND, () => s.output.show(true)),
    vscode.commands.registerCommand(DEBUG_COMMAND, (args: unknown) =>
      s.debugInvocation(args && typeof args === "object" ? (args as Record<string, unknown>) : {})),
  );
  s.track(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!s.started) {
        return;
      }
      if (changeNeedsRestart((key) => e.affectsConfiguration(key))) {
        s.scheduleRestart("dify.server.path changed");
      } else if (changeConcernsServer((key) => e.affectsConfiguration(key))) {
        s.pushSettings();
      }
    }),
  );
  void watchPythonExtension(s);

  // Start only for a Dify plugin: a manifest.yaml in the workspace, or an opened Python/YAML file inside a plugin.
  const start = () => {
    if (!s.started) {
      void s.enqueue(() => s.start());
    }
  };
  const hasPlugin =
    vscode.workspace.textDocuments.some(isPluginDocument) ||
    (await vscode.workspace.findFiles(PLUGIN_GLOB, EXCLUDE_GLOB, 1)).length > 0;
  if (hasPlugin) {
    start();
  } else {
    const listener = vscode.workspace.onDidOpenTextDocument((doc) => {
      if (isPluginDocument(doc)) {
        listener.dispose();
        start();
      }
    });
    s.track(listener);
  }
}

async function watchPythonExtension(s: ExtensionState): Promise<void> {
  const ext = vscode.extensions.getExtension("ms-python.python");
  if (!ext) {
    return;
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const api: any = ext.isActive ? ext.exports : await ext.activate();
    const event = api?.environments?.onDidChangeActiveEnvironmentPath;
    if (typeof event === "function") {
      s.track(
        event(() => {
          // Only when that interpreter is (or could become) the server.
          if (s.started && (!s.client || s.launch?.source === "python-extension")) {
            s.scheduleRestart("the Python extension's interpreter changed");
          }
        }),
      );
    }
  } catch {
    // The Python extension failed to activate: discovery does without it.
  }
}

export async function deactivate(): Promise<void> {
  const s = state;
  state = undefined;
  if (s) {
    await s.stop();
  }
}
