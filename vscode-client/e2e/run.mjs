// End-to-end test of the packaged extension in a real VS Code (code-server),
// driven through Debian's Chromium by playwright-core.
//
// Each check is separate and reports what it saw. A check whose server-side
// feature is not built yet (per e2e/server_features.py, run with the same
// Python as the server) is reported as SKIPPED with the work it waits on; a
// check whose feature exists but does not show in the editor FAILS.
//
// Environment:
//   CODE_SERVER                  code-server executable (Node 24 must be first on PATH for it)
//   DIFY_LSP_PYTHON_FOR_CLIENT   Python with dify_lsp installed (for server_features.py; the extension runs its bundled server)
//   DIFY_SDK_PYTHON              Python 3.12 with dify_plugin, for Run invocation (dify.python); optional
//   VSIX                         the platform package for this machine (default: ../vsix/dify-lsp-linux-x64.vsix)
//   UNIVERSAL_VSIX               the universal package (no compiled code; installs the server on first start)
//   CHROMIUM                     default /usr/bin/chromium
//   E2E_WORK                     scratch folder (default: a new temp folder, removed afterwards)
//   E2E_SCREENSHOTS              where screenshots go (default: e2e/screenshots)

import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const clientDir = path.resolve(here, "..");
const repoDir = path.resolve(clientDir, "..");
const example = path.join(repoDir, "examples", "llm-tool");
const codeServer = process.env.CODE_SERVER || "code-server";
const serverPython = process.env.DIFY_LSP_PYTHON_FOR_CLIENT || "python3";
const sdkPython = process.env.DIFY_SDK_PYTHON || "";
const vsix = path.resolve(process.env.VSIX || path.join(clientDir, "vsix", "dify-lsp-linux-x64.vsix"));
const universalVsix = process.env.UNIVERSAL_VSIX ? path.resolve(process.env.UNIVERSAL_VSIX) : "";
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
const shotsDir = path.resolve(process.env.E2E_SCREENSHOTS || path.join(here, "screenshots"));
const keepWork = Boolean(process.env.E2E_WORK);
const work = process.env.E2E_WORK ? path.resolve(process.env.E2E_WORK) : fs.mkdtempSync(path.join(os.tmpdir(), "dify-vscode-e2e-"));

const results = [];
const children = [];
let browserContext;

function log(msg) {
  process.stdout.write(`[e2e ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

function record(name, status, detail) {
  results.push({ name, status, detail });
  log(`${status.toUpperCase()} ${name}: ${detail}`);
}

async function check(name, waitsOn, fn) {
  if (waitsOn) {
    record(name, "skipped", `waiting on ${waitsOn}`);
    return;
  }
  try {
    const detail = await fn();
    record(name, "passed", detail || "ok");
  } catch (err) {
    record(name, "failed", err && err.message ? err.message.split("\n")[0] : String(err));
    await shot(`failed-${name.replace(/[^a-z0-9]+/gi, "-")}`, true).catch(() => {});
  }
}

let page;
async function shot(name, scratch = false) {
  if (!page) return;
  const dir = scratch ? path.join(work, "screenshots") : shotsDir;
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  if (!scratch) await page.waitForTimeout(800); // let quick inputs and toasts finish fading
  await page.screenshot({ path: file });
  log(`screenshot ${file}`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

function killAll() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, "SIGKILL"); // its whole process group (extension host, dify-lsp)
      } catch {
        try {
          child.kill("SIGKILL");
        } catch {
          /* gone */
        }
      }
    }
  }
}
process.on("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, async () => {
    log(`${sig}: stopping`);
    try {
      await browserContext?.close();
    } catch {
      /* ignore */
    }
    killAll();
    process.exit(130);
  });
}

function writeJson(file, value) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value, null, 2));
}

/** The test workspace: the example plugin, and a broken copy whose provider lists a missing tool file. */
function makeWorkspace() {
  const ws = path.join(work, "workspace");
  fs.rmSync(ws, { recursive: true, force: true });
  fs.mkdirSync(ws, { recursive: true });
  fs.cpSync(example, path.join(ws, "llm-tool"), { recursive: true, filter: (src) => !/[\\/](\.venv|\.dify|__pycache__)$/.test(src) });
  fs.cpSync(example, path.join(ws, "broken-tool"), { recursive: true, filter: (src) => !/[\\/](\.venv|\.dify|__pycache__)$/.test(src) });
  const provider = path.join(ws, "broken-tool", "provider", "llm.yaml");
  const text = fs.readFileSync(provider, "utf8");
  if (!text.includes("- tools/llm.yaml")) {
    throw new Error(`${provider} no longer lists tools/llm.yaml; update the e2e's broken copy`);
  }
  fs.writeFileSync(provider, text.replace("- tools/llm.yaml", "- tools/missing.yaml"));
  // A copy whose code reads the `prompt` it declares (the example reads the undeclared `query`): F2 renames both.
  fs.cpSync(example, path.join(ws, "rename-tool"), { recursive: true, filter: (src) => !/[\\/](\.venv|\.dify|__pycache__)$/.test(src) });
  const renamePy = path.join(ws, "rename-tool", "tools", "llm.py");
  fs.writeFileSync(renamePy, fs.readFileSync(renamePy, "utf8").replace('get("query")', 'get("prompt")'));
  // No dify.server.path: the .vsix's bundled server must start on its own (python3 on PATH runs it).
  const settings = {};
  if (sdkPython) settings["dify.python"] = sdkPython;
  writeJson(path.join(ws, ".vscode", "settings.json"), settings);
  return ws;
}

function serverFeatures(ws) {
  const proc = spawnSync(serverPython, [path.join(here, "server_features.py"), ws], { encoding: "utf8", timeout: 180000 });
  if (proc.status !== 0) {
    throw new Error(`server_features.py failed (${proc.status}): ${(proc.stderr || proc.error?.message || "").slice(-1500)}`);
  }
  return JSON.parse(proc.stdout);
}

async function waitForHttp(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err.message;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms (${last})`);
}

const mod = process.platform === "darwin" ? "Meta" : "Control";

async function runCommand(title) {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible", timeout: 10000 });
  await input.fill(`>${title}`);
  const row = page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first();
  await row.waitFor({ timeout: 10000 });
  await page.keyboard.press("Enter");
}

async function openFile(relPath) {
  const name = path.basename(relPath);
  const dir = path.dirname(relPath);
  await page.keyboard.press(`${mod}+KeyP`);
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible", timeout: 10000 });
  await input.fill(relPath);
  // Wait until the first result is that very file (not a same-named file elsewhere).
  const first = page.locator(".quick-input-list .monaco-list-row").first();
  await waitFor(
    `quick open did not offer ${relPath}`,
    async () => {
      const label = (await first.getAttribute("aria-label").catch(() => "")) || "";
      return { ok: label.includes(name) && label.includes(dir), seen: label };
    },
    15000,
    200,
  );
  await page.keyboard.press("Enter");
  await waitFor(
    `${relPath} did not become the active editor`,
    async () => {
      // The breadcrumbs above the editor name the active file's folders and name.
      const crumbs = (await page.locator(".breadcrumbs-control .monaco-breadcrumb-item").allInnerTexts().catch(() => [])).map((c) => c.trim());
      return { ok: crumbs.join("/").endsWith(relPath), seen: crumbs };
    },
    15000,
    200,
  );
  await page.waitForTimeout(500);
}

async function goToLine(line, column = 1) {
  await page.keyboard.press(`${mod}+KeyG`);
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible", timeout: 10000 });
  await input.fill(`:${line}:${column}`);
  await page.keyboard.press("Enter");
  await page.waitForTimeout(300);
}

async function problemsText() {
  return (await page.locator(".markers-panel").allInnerTexts()).join("\n");
}

async function openProblems() {
  await runCommand("View: Focus Problems");
  await page.locator(".markers-panel").first().waitFor({ timeout: 10000 });
}

async function waitFor(what, fn, timeoutMs, intervalMs = 500) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last && last.ok) return last;
    await page.waitForTimeout(intervalMs);
  }
  throw new Error(`${what} (after ${Math.round(timeoutMs / 1000)} s; last seen: ${last && last.seen ? JSON.stringify(last.seen).slice(0, 400) : "nothing"})`);
}

const extDir = path.join(work, "code-extensions");
const configFile = path.join(work, "code-server.yaml");
const userSettings = {
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.welcomePage.walkthroughs.openOnInstall": false,
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "extensions.ignoreRecommendations": true,
  "git.enabled": false,
  "editor.codeLens": true,
  "editor.quickSuggestions": { other: false, comments: false, strings: false },
  "editor.hover.delay": 300,
  "files.autoSave": "off",
  "window.restoreWindows": "none",
  "chat.disableAIFeatures": true,
  "workbench.secondarySideBar.defaultVisibility": "hidden",
};

/** Starts code-server on `folder` and opens it in a new Chromium profile; `page` is its workbench. */
async function startSession(userData, folder, extraArgs, logName, profileName, extensionsDir = extDir) {
  const port = await freePort();
  const csLog = fs.openSync(path.join(work, logName), "w");
  const cs = spawn(
    codeServer,
    [
      ...["--config", configFile, "--user-data-dir", userData, "--extensions-dir", extensionsDir],
      ...extraArgs,
      ...["--bind-addr", `127.0.0.1:${port}`, "--auth", "none", "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust", "--disable-getting-started-override", folder],
    ],
    { detached: true, stdio: ["ignore", csLog, csLog] },
  );
  children.push(cs);
  log(`code-server pid ${cs.pid} on port ${port} (log ${path.join(work, logName)})`);
  await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60000);

  browserContext = await chromium.launchPersistentContext(path.join(work, profileName), {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
      "--no-first-run",
      "--disable-dev-shm-usage",
    ],
  });
  page = browserContext.pages()[0] || (await browserContext.newPage());
  page.setDefaultTimeout(15000);
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}`);
  await page.locator(".monaco-workbench").waitFor({ timeout: 60000 });
  await page.locator(".explorer-folders-view, .explorer-viewlet").first().waitFor({ timeout: 60000 }).catch(() => {});
  log("workbench loaded");
}

/** What `dify-lsp check --lang zh_Hans` reports for the plugin copies: the messages VS Code must show in Chinese. */
function chineseFindings(ws) {
  const proc = spawnSync(serverPython, ["-m", "dify_lsp", "check", "--lang", "zh_Hans", "--format", "json", path.join(ws, "llm-tool")], { encoding: "utf8", timeout: 120000 });
  try {
    return JSON.parse(proc.stdout || "[]");
  } catch {
    throw new Error(`dify-lsp check --lang zh_Hans failed (${proc.status}): ${(proc.stderr || proc.stdout || "").slice(-1500)}`);
  }
}

/**
 * A minimal VS Code language pack for zh-cn, packed as a .vsix. VS Code reports a display language
 * (vscode.env.language, which the language client sends as `locale`) only when a language pack for it is
 * installed; without one `--locale zh-cn` falls back to English. The marketplace's pack cannot be
 * downloaded on CI, and the test needs only one translated workbench string to prove the switch.
 */
function makeChineseLanguagePack() {
  const root = path.join(work, "zh-language-pack");
  fs.rmSync(root, { recursive: true, force: true });
  writeJson(path.join(root, "extension", "package.json"), {
    name: "dify-e2e-language-pack-zh-hans",
    displayName: "Chinese (Simplified) test language pack",
    publisher: "dify-lsp-e2e",
    version: "0.0.1",
    engines: { vscode: "^1.60.0" },
    categories: ["Language Packs"],
    contributes: {
      localizations: [
        {
          languageId: "zh-cn",
          languageName: "Chinese Simplified",
          localizedLanguageName: "中文(简体)",
          translations: [{ id: "vscode", path: "./translations/main.i18n.json" }],
        },
      ],
    },
  });
  writeJson(path.join(root, "extension", "translations", "main.i18n.json"), {
    version: "1.0.0",
    contents: { "vs/workbench/contrib/markers/browser/messages": { "markers.panel.title.problems": "问题" } },
  });
  const vsixFile = path.join(work, "zh-language-pack.vsix");
  const zip = spawnSync(
    serverPython,
    [
      "-c",
      "import os, sys, zipfile\nroot, out = sys.argv[1:]\nwith zipfile.ZipFile(out, 'w') as z:\n" +
        "    for d, _, files in os.walk(root):\n        for f in files:\n" +
        "            p = os.path.join(d, f); z.write(p, os.path.relpath(p, root))\n",
      root,
      vsixFile,
    ],
    { encoding: "utf8", timeout: 60000 },
  );
  if (zip.status !== 0) throw new Error(`packing the test language pack failed: ${zip.stderr}`);
  return vsixFile;
}

async function main() {
  log(`work folder ${work}`);
  for (const [what, p] of [["vsix", vsix], ["chromium", chromiumPath]]) {
    if (!fs.existsSync(p)) throw new Error(`${what} not found at ${p}`);
  }
  const ws = makeWorkspace();
  const features = serverFeatures(ws);
  log(`server features: commands=${features.commands.join(",")} completion(python)=${features.completion_python.length} hover(tool yaml)=${features.hover_tool_yaml.length} findings=${features.findings.length}`);

  const userData = path.join(work, "code-user-data");
  writeJson(path.join(userData, "User", "settings.json"), userSettings);
  fs.writeFileSync(configFile, "auth: none\ncert: false\n");
  const common = ["--config", configFile, "--user-data-dir", userData, "--extensions-dir", extDir];

  log(`installing ${vsix}`);
  const install = spawnSync(codeServer, [...common, "--install-extension", vsix], { encoding: "utf8", timeout: 180000 });
  if (install.status !== 0) {
    throw new Error(`code-server --install-extension failed (${install.status}): ${install.stderr || install.stdout || install.error?.message}`);
  }
  log(install.stdout.trim().split("\n").pop());

  await startSession(userData, ws, [], "code-server.log", "chromium-profile");

  // 1. The extension activates, finds the server bundled in the .vsix, and the server runs.
  await check("server starts", null, async () => {
    const item = page.locator(".statusbar-item", { hasText: "dify-lsp" }).first();
    await item.waitFor({ timeout: 60000 });
    await waitFor(
      "the status bar never showed a running dify-lsp",
      async () => {
        const running = await item.locator(".codicon-check").count();
        const failed = await item.locator(".codicon-error").count();
        return { ok: running > 0 || failed > 0, seen: { running, failed, text: await item.innerText() } };
      },
      60000,
    );
    if ((await item.locator(".codicon-error").count()) > 0) {
      throw new Error(`the status bar shows dify-lsp failed: ${await item.getAttribute("aria-label")}`);
    }
    const label = (await item.getAttribute("aria-label")) || "";
    if (!label.includes("the server bundled with the extension")) {
      throw new Error(`the server did not start from the .vsix's bundle: ${label}`);
    }
    return `status bar: ${(await item.innerText()).trim()} (${label})`;
  });

  // 2. A foundation rule: DL002 missing-file in the broken copy's provider YAML.
  const dl002 = features.findings.find((f) => f.code === "DL002" && f.path.includes("broken-tool"));
  await check("diagnostic DL002 (missing file) in Problems", dl002 ? null : "dify-lsp check reporting DL002 for the broken copy", async () => {
    await openFile("broken-tool/provider/llm.yaml");
    await openProblems();
    await waitFor(
      "DL002 did not appear in the Problems panel",
      async () => {
        const text = await problemsText();
        return { ok: text.includes("DL002") && text.includes("tools/missing.yaml"), seen: text };
      },
      60000,
    );
    await shot("problems-dl002", true);
    return "Problems shows DL002 for tools/missing.yaml";
  });

  // 3. The python rule family: the example's tool_parameters.get("query") mistake.
  const queryFinding = features.findings.find(
    (f) => /^DL2\d\d$/.test(f.code) && f.path.replace(/\\/g, "/").includes("llm-tool/tools/llm.py") && f.message.includes("query"),
  );
  await check(
    "python rule: undeclared `query` parameter in Problems",
    queryFinding ? null : "the python rule family (DL2xx) reporting tool_parameters.get(\"query\") in tools/llm.py",
    async () => {
      await openFile("llm-tool/tools/llm.py");
      await openProblems();
      await waitFor(
        `${queryFinding.code} did not appear in the Problems panel`,
        async () => {
          const text = await problemsText();
          return { ok: text.includes(queryFinding.code) && text.includes("query"), seen: text };
        },
        60000,
      );
      await shot("problems");
      return `Problems shows ${queryFinding.code}: ${queryFinding.message}`;
    },
  );

  // 4. Completion after `self.session.model.` lists the model types.
  const expectedTypes = ["llm", "text_embedding", "rerank"];
  await check(
    "completion after self.session.model.",
    features.completion_python.length ? null : "a Python completion provider (session.* catalog)",
    async () => {
      await openFile("llm-tool/tools/llm.py");
      const pyLines = fs.readFileSync(path.join(example, "tools", "llm.py"), "utf8").split("\n");
      await goToLine(pyLines.findIndex((l) => l.includes("def _invoke(")) + 1, 1);
      await page.keyboard.press("End");
      await page.keyboard.press("Enter");
      await page.keyboard.type("model_api = self.session.model.", { delay: 30 });
      const widget = page.locator(".editor-widget.suggest-widget");
      let labels = [];
      try {
        await waitFor(
          "the completion list did not list the model types",
          async () => {
            if (!(await widget.isVisible())) {
              await page.keyboard.press(`${mod}+Space`);
              await page.waitForTimeout(800);
            }
            labels = (await widget.locator(".monaco-list-row .label-name").allInnerTexts()).map((s) => s.trim());
            return { ok: expectedTypes.every((t) => labels.includes(t)), seen: labels };
          },
          45000,
          1000,
        );
        await shot("completion");
      } finally {
        await page.keyboard.press("Escape");
        // Throw the typing away so the editor's text is the example's again.
        await runCommand("File: Revert File");
        await page.waitForTimeout(500);
      }
      return `suggestions: ${labels.slice(0, 12).join(", ")}`;
    },
  );

  // 5. Hover on a tool YAML key shows dify-lsp's documentation.
  await check("hover in a tool YAML", features.hover_tool_yaml.length ? null : "a tool YAML hover provider", async () => {
    await openFile("llm-tool/tools/llm.yaml");
    const yamlLines = fs.readFileSync(path.join(example, "tools", "llm.yaml"), "utf8").split("\n");
    const line = yamlLines.findIndex((l) => l.trim() === "form: llm") + 1; // the prompt parameter's form (1-based)
    await goToLine(line, 7);
    // The cursor is on `form`; "Show or Focus Hover" asks the server for the hover there.
    const hover = page.locator(".monaco-hover .hover-contents, .monaco-hover .rendered-markdown, .monaco-hover-content");
    const content = await waitFor(
      "no hover appeared on `form:`",
      async () => {
        if ((await hover.count()) === 0 || !(await hover.first().isVisible())) {
          await runCommand("Show or Focus Hover");
          await page.waitForTimeout(1500);
        }
        const texts = (await hover.allInnerTexts().catch(() => [])).map((t) => t.trim()).filter(Boolean);
        const text = texts.join("\n");
        return { ok: text.length > 10, seen: text, text };
      },
      30000,
      500,
    );
    await shot("hover");
    await page.keyboard.press("Escape");
    return `hover: ${content.text.split("\n")[0].slice(0, 120)}`;
  });

  // 6. Run invocation from the command palette shows the mock model's answer.
  await check(
    "Run invocation shows the mock model's answer",
    features.commands.includes("dify.runInvocation") && features.commands.includes("dify.listTools")
      ? null
      : "the server's dify.runInvocation and dify.listTools commands",
    async () => {
      await openFile("llm-tool/tools/llm.py");
      await runCommand("Dify: Run invocation");
      // One tool in the plugin: it is picked without asking; then the `prompt` parameter.
      const input = page.locator(".quick-input-widget input");
      await waitFor(
        'the input box for parameter "prompt" did not appear',
        async () => {
          const title = (await page.locator(".quick-input-widget .quick-input-title").innerText({ timeout: 500 }).catch(() => "")) || "";
          return { ok: title.includes('"prompt"') && (await input.isVisible()), seen: title };
        },
        30000,
        300,
      );
      await input.fill("Hello from the e2e test");
      await page.keyboard.press("Enter");
      let answer = "";
      await waitFor(
        "the run result panel never showed a mock answer",
        async () => {
          for (const frame of page.frames()) {
            const text = await frame
              .locator("body")
              .innerText({ timeout: 500 })
              .catch(() => "");
            if (text.includes("Reverse invocations")) {
              answer = text;
              return { ok: text.includes("(mock"), seen: text.slice(0, 600) };
            }
          }
          const notes = await page.locator(".notifications-toasts").allInnerTexts().catch(() => []);
          return { ok: false, seen: notes.join(" | ") || "no result panel yet" };
        },
        150000,
        1000,
      );
      await page.waitForTimeout(500);
      await shot("run-invocation");
      const line = answer.split("\n").find((l) => l.includes("(mock")) || "";
      return `result panel: ${line.trim().slice(0, 160)}`;
    },
  );

  // 7. F2 on a tool parameter read in the code renames it in the tool YAML too.
  await check("F2 renames a tool parameter in the YAML and the code", features.rename.length ? null : "a rename provider", async () => {
    const rel = "rename-tool/tools/llm.py";
    await openFile(rel);
    const pyFile = path.join(ws, "rename-tool", "tools", "llm.py");
    const yamlFile = path.join(ws, "rename-tool", "tools", "llm.yaml");
    const pyLines = fs.readFileSync(pyFile, "utf8").split("\n");
    const row = pyLines.findIndex((l) => l.includes('get("prompt")'));
    await goToLine(row + 1, pyLines[row].indexOf('get("prompt")') + 'get("pr'.length + 1);
    await page.keyboard.press("F2");
    const box = page.locator(".rename-box input, .rename-box textarea").first();
    await box.waitFor({ state: "visible", timeout: 15000 });
    await waitFor("the rename box did not offer `prompt`", async () => ({ ok: (await box.inputValue()) === "prompt", seen: await box.inputValue() }), 10000, 200);
    await box.fill("user_prompt");
    await page.keyboard.press("Enter");
    await page.waitForTimeout(1500);
    await runCommand("File: Save All Files");  // not "Save All in Group", which the palette may list first
    const seen = await waitFor(
      "the rename did not reach both files on disk",
      async () => {
        const py = fs.readFileSync(pyFile, "utf8");
        const yaml = fs.readFileSync(yamlFile, "utf8");
        return { ok: py.includes('get("user_prompt")') && yaml.includes("- name: user_prompt\n"), seen: { py: py.includes("user_prompt"), yaml: yaml.includes("user_prompt") }, py, yaml };
      },
      30000,
    );
    if (seen.yaml.includes("name: prompt") || seen.py.includes('"prompt"')) {
      throw new Error("an occurrence of the old name is left");
    }
    return "tools/llm.yaml and tools/llm.py both say user_prompt";
  });

  // 8. "Dify: New tool" asks for a name; the server creates the tool's YAML and Python and lists it.
  await check("Dify: New tool creates, lists and opens a tool", features.commands.includes("dify.newTool") ? null : "the server's dify.newTool command", async () => {
    await openFile("rename-tool/tools/llm.yaml");
    await runCommand("Dify: New tool");
    const input = page.locator(".quick-input-widget input");
    await input.waitFor({ state: "visible", timeout: 10000 });
    await input.fill("echo_probe");
    await page.keyboard.press("Enter");
    await waitFor(
      "tools/echo_probe.py did not open",
      async () => {
        const crumbs = (await page.locator(".breadcrumbs-control .monaco-breadcrumb-item").allInnerTexts().catch(() => [])).map((c) => c.trim());
        return { ok: crumbs.join("/").endsWith("tools/echo_probe.py"), seen: crumbs };
      },
      30000,
    );
    await runCommand("File: Save All Files");  // not "Save All in Group", which the palette may list first
    // The provider was edited without an editor of its own, and Save All does not always reach such a
    // buffer: open it and save it, so the disk shows what the edit put in the buffer (and only that).
    await openFile("rename-tool/provider/llm.yaml");
    await page.keyboard.press(`${mod}+KeyS`);
    const plugin = path.join(ws, "rename-tool");
    await waitFor(
      "the new tool is not on disk and listed",
      async () => {
        const read = (rel) => (fs.existsSync(path.join(plugin, rel)) ? fs.readFileSync(path.join(plugin, rel), "utf8") : "");
        const py = read("tools/echo_probe.py");
        const provider = read("provider/llm.yaml");
        return { ok: py.includes("class EchoProbeTool(Tool):") && provider.includes("- tools/echo_probe.yaml"), seen: { py: py.length, listed: provider.includes("echo_probe") } };
      },
      30000,
    );
    await shot("new-tool", true);
    return "tools/echo_probe.yaml and tools/echo_probe.py created, listed in provider/llm.yaml, the Python opened";
  });

  // 9. A wrong dify.server.path: the settings change restarts the client, which shows ONE
  //    notification with the install command and a "Show output" action.
  await check("server not found: one notification with the install command", null, async () => {
    const settingsFile = path.join(ws, ".vscode", "settings.json");
    const settings = JSON.parse(fs.readFileSync(settingsFile, "utf8"));
    const missing = path.join(work, "no-such-venv", "bin", "dify-lsp");
    fs.writeFileSync(settingsFile, JSON.stringify({ ...settings, "dify.server.path": missing }, null, 2));
    const toast = page.locator(".notifications-toasts .notification-toast", { hasText: "pip install /path/to/dify-lsp" });
    await waitFor(
      "no notification with `pip install /path/to/dify-lsp` appeared after dify.server.path changed",
      async () => {
        const count = await toast.count();
        const all = await page.locator(".notifications-toasts .notification-toast").allInnerTexts().catch(() => []);
        return { ok: count > 0, seen: all };
      },
      30000,
    );
    await page.waitForTimeout(1500); // a second notification would show up by now
    const count = await toast.count();
    if (count !== 1) {
      throw new Error(`expected one notification, saw ${count}`);
    }
    const text = (await toast.innerText()).replace(/\s+/g, " ");
    if (!text.includes(missing) || !text.includes("dify_lsp-*.whl") || /pip install dify-lsp\b/.test(text)) {
      throw new Error(`the notification does not name the path and both ways to install (repository, wheel), or names an index: ${text}`);
    }
    const button = toast.locator(".monaco-button", { hasText: "Show output" });
    if ((await button.count()) !== 1) {
      throw new Error(`the notification has no "Show output" action: ${text}`);
    }
    await shot("server-not-found");
    await button.click();
    await waitFor(
      "Show output did not reveal the Dify output with the discovery steps",
      async () => {
        // The output view wraps long lines anywhere, even inside a path: compare without whitespace.
        const seen = (await page.locator(".panel").first().innerText().catch(() => "")) || "";
        const squeezed = seen.replace(/\s+/g, "");
        return { ok: squeezed.includes(`pointsat"${missing}",whichdoesnotexist`.replace(/\s+/g, "")), seen: seen.slice(-400) };
      },
      15000,
    );
    const status = page.locator(".statusbar-item", { hasText: "dify-lsp" }).first();
    if ((await status.locator(".codicon-error").count()) === 0) {
      throw new Error("the status bar does not show dify-lsp as failed");
    }
    return `notification: ${text.slice(0, 200)}`;
  });

  // 10. VS Code's display language set to Chinese: the extension passes it to the server in
  //     `initialize` (`locale`), and the Problems panel shows the message from the zh_Hans catalog.
  const zhFinding = chineseFindings(ws).find(
    (f) => f.code === "DL207" && f.path.replace(/\\/g, "/").includes("llm-tool/tools/llm.py") && f.message_en.includes("query"),
  );
  await check("Chinese display language: Problems shows the zh_Hans message", zhFinding ? null : "dify-lsp check --lang zh_Hans reporting DL207 for tools/llm.py", async () => {
    // The English session is done: stop it, so the two do not share the 2 cores of a CI runner.
    await browserContext.close();
    browserContext = undefined;
    page = undefined;
    killAll();
    const zhWs = path.join(work, "workspace-zh");
    fs.rmSync(zhWs, { recursive: true, force: true });
    fs.cpSync(path.join(ws, "llm-tool"), path.join(zhWs, "llm-tool"), { recursive: true });
    const zhUserData = path.join(work, "code-user-data-zh");
    writeJson(path.join(zhUserData, "User", "settings.json"), userSettings);
    const pack = makeChineseLanguagePack();
    await startSession(zhUserData, zhWs, ["--locale", "zh-cn"], "code-server-zh.log", "chromium-profile-zh");
    // Installed through the running server (not `code-server --install-extension`): only the server
    // records a language pack in the user data's languagepacks.json, where `--locale` looks for it.
    // Right after start the palette may not list the extension-management commands yet: ask again.
    await waitFor(
      "the command palette never offered Extensions: Install from VSIX...",
      async () => {
        try {
          await runCommand("Extensions: Install from VSIX...");
          return { ok: true };
        } catch (err) {
          await page.keyboard.press("Escape");
          return { ok: false, seen: String(err.message || err).slice(0, 200) };
        }
      },
      90000,
      1000,
    );
    const input = page.locator(".quick-input-widget input");
    await input.waitFor({ state: "visible", timeout: 10000 });
    const languagePacks = path.join(zhUserData, "languagepacks.json");
    await waitFor(
      "the test language pack was not installed",
      async () => {
        // The file dialog fills in its start folder once it has listed it, over what was typed before:
        // type the path until it stays, then accept it.
        if (await input.isVisible().catch(() => false)) {
          if ((await input.inputValue().catch(() => "")) !== pack) await input.fill(pack).catch(() => {});
          else await page.keyboard.press("Enter");
        }
        const ok = fs.existsSync(languagePacks) && fs.readFileSync(languagePacks, "utf8").includes('"zh-cn"');
        return { ok, seen: await page.locator(".notifications-toasts").allInnerTexts().catch(() => []) };
      },
      30000,
      1000,
    );
    await page.reload();
    await page.locator(".monaco-workbench").waitFor({ timeout: 60000 });
    await openFile("llm-tool/tools/llm.py");
    await openProblems();
    const squeeze = (t) => t.replace(/\s+/g, "");
    await waitFor(
      "the zh_Hans DL207 message did not appear in the Problems panel",
      async () => {
        const text = await problemsText();
        return { ok: text.includes("DL207") && squeeze(text).includes(squeeze(zhFinding.message)), seen: text };
      },
      60000,
    );
    // The workbench itself speaks Chinese: the test pack translates the Problems panel's title.
    const tabs = (await page.locator(".part.panel .composite-bar .action-label").allInnerTexts().catch(() => [])).map((t) => t.trim());
    if (!tabs.includes("问题")) {
      throw new Error(`the panel has no 问题 (Problems) tab, the display language is not Chinese: ${JSON.stringify(tabs)}`);
    }
    await shot("problems-zh");
    return `panel tabs ${tabs.join(", ")}; Problems shows DL207: ${zhFinding.message}`;
  });

  // 11. The universal package (no compiled code): on first start the extension creates a private
  //     environment with python3 on PATH, installs the server there with pip (progress notification),
  //     starts it from there, and the Problems panel shows its diagnostics.
  const dl207 = features.findings.find((f) => f.code === "DL207" && f.path.replace(/\\/g, "/").includes("llm-tool/tools/llm.py"));
  await check(
    "universal .vsix: first start installs the server into a private environment, diagnostics appear",
    !universalVsix ? "UNIVERSAL_VSIX (the universal package)" : dl207 ? null : "dify-lsp check reporting DL207 for tools/llm.py",
    async () => {
      await browserContext?.close();
      browserContext = undefined;
      page = undefined;
      killAll();
      const uWs = path.join(work, "workspace-universal");
      fs.rmSync(uWs, { recursive: true, force: true });
      fs.cpSync(path.join(ws, "llm-tool"), path.join(uWs, "llm-tool"), { recursive: true });
      const uUserData = path.join(work, "code-user-data-universal");
      const uExtDir = path.join(work, "code-extensions-universal");
      writeJson(path.join(uUserData, "User", "settings.json"), userSettings);
      const installed = spawnSync(
        codeServer,
        ["--config", configFile, "--user-data-dir", uUserData, "--extensions-dir", uExtDir, "--install-extension", universalVsix],
        { encoding: "utf8", timeout: 180000 },
      );
      if (installed.status !== 0) {
        throw new Error(`installing ${universalVsix} failed: ${installed.stderr || installed.stdout}`);
      }
      // What was installed carries no compiled module and no bundled server packages.
      const extFolder = fs.readdirSync(uExtDir).find((n) => n.startsWith("dify-lsp.dify-lsp-"));
      if (!extFolder) throw new Error(`the universal package is not in ${uExtDir}: ${fs.readdirSync(uExtDir)}`);
      const compiled = [];
      const walk = (dir) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
          const p = path.join(dir, entry.name);
          if (entry.isDirectory()) walk(p);
          else if (/\.(so|pyd|dylib|dll|exe)$/.test(entry.name) || entry.name === "uv") compiled.push(p);
        }
      };
      walk(path.join(uExtDir, extFolder));
      if (compiled.length || fs.existsSync(path.join(uExtDir, extFolder, "bundled", "libs"))) {
        throw new Error(`the universal package carries compiled code or bundled libs: ${compiled.join(", ")}`);
      }
      await startSession(uUserData, uWs, [], "code-server-universal.log", "chromium-profile-universal", uExtDir);
      const progress = page.locator(".notifications-toasts .notification-toast, .statusbar-item", { hasText: "installing the language server" });
      let sawProgress = false;
      const item = page.locator(".statusbar-item", { hasText: "dify-lsp" }).first();
      await waitFor(
        "the universal package's server never ran (status bar)",
        async () => {
          if (!sawProgress && (await progress.count()) > 0) {
            sawProgress = true;
            await shot("universal-first-start", true).catch(() => {});
          }
          const label = (await item.getAttribute("aria-label").catch(() => "")) || "";
          const failed = (await item.locator(".codicon-error").count().catch(() => 0)) > 0;
          if (failed) throw new Error(`dify-lsp failed to start: ${label}`);
          return { ok: (await item.locator(".codicon-check").count().catch(() => 0)) > 0, seen: label };
        },
        420000,
      );
      const label = (await item.getAttribute("aria-label")) || "";
      if (!label.includes("private environment")) {
        throw new Error(`the server did not start from the private environment: ${label}`);
      }
      const storage = path.join(uUserData, "User", "globalStorage", "dify-lsp.dify-lsp");
      const env = fs.existsSync(storage) ? fs.readdirSync(storage).find((n) => n.startsWith("server-dify_lsp-")) : undefined;
      if (!env || !fs.existsSync(path.join(storage, env, "dify-lsp-installed.txt"))) {
        throw new Error(`no finished private environment in ${storage}`);
      }
      if (!sawProgress) {
        throw new Error("no progress notification was seen while the server was installed");
      }
      await openFile("llm-tool/tools/llm.py");
      await openProblems();
      await waitFor(
        "DL207 did not appear in the Problems panel with the universal package",
        async () => {
          const text = await problemsText();
          return { ok: text.includes("DL207"), seen: text };
        },
        60000,
      );
      await shot("universal-problems", true);
      return `installed into ${path.join(storage, env)}; ${label}`;
    },
  );
}

let fatal;
const overall = setTimeout(() => {
  log("overall e2e time limit reached");
  killAll();
  process.exit(124);
}, Number(process.env.E2E_TIMEOUT_MS || 900000));
try {
  await main();
} catch (err) {
  fatal = err;
  log(`setup failed: ${err && err.stack ? err.stack : err}`);
  await shot("failed-setup", true).catch(() => {});
} finally {
  try {
    await browserContext?.close();
  } catch {
    /* ignore */
  }
  killAll();
  clearTimeout(overall);
}

const passed = results.filter((r) => r.status === "passed").length;
const failed = results.filter((r) => r.status === "failed").length + (fatal ? 1 : 0);
const skipped = results.filter((r) => r.status === "skipped").length;
log("summary:");
for (const r of results) {
  log(`  ${r.status.padEnd(7)} ${r.name}: ${r.detail}`);
}
if (fatal) log(`  failed  setup: ${fatal.message}`);
if (failed) log(`logs and failure screenshots: ${work}`);
else if (!keepWork) fs.rmSync(work, { recursive: true, force: true });
process.stdout.write(`e2e: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
// Every server feature the checks need has landed: a check that would be skipped now is a failure.
process.exit(failed || skipped ? 1 : 0);
