/**
 * VS Code settings (section "dify") -> the server's settings object
 * (see notes/contracts.md "Server settings"). No `vscode` import.
 *
 * The same object goes into initializationOptions at start, answers the
 * server's workspace/configuration request for section "dify", and is sent
 * with workspace/didChangeConfiguration when a setting changes.
 */

export type Backend = "mock" | "openai";
export type CredentialType = "api-key" | "oauth";
export type Family = "files" | "schema" | "python" | "permissions";
export const FAMILIES: readonly Family[] = ["files", "schema", "python", "permissions"];

export interface ServerSettings {
  /** Interpreter for Run invocation and jedi; null = let the server find one. */
  python: string | null;
  run: {
    backend: Backend;
    timeout: number;
    validateCredentials: boolean;
    credentialType: CredentialType;
    /** Plugin folders whose tools answer an agent strategy's session.tool.invoke. */
    toolPlugins: string[];
    openai: {
      baseUrl: string;
      apiKeyEnv: string;
      models: Record<string, string>;
    };
  };
  diagnostics: Record<Family, boolean>;
  /** Rule selectors over the plugin's [tool.dify-lsp], as `check --select/--extend-select/--ignore`. */
  select: string[];
  extendSelect: string[];
  ignore: string[];
  /** Run the marketplace family (what Dify Marketplace review blocks or warns about). */
  marketplace: boolean;
  /** Publish a just-opened plugin's diagnostics from the result cache when its files did not change. */
  cache: boolean;
  debounceMs: number;
  /** Language of messages; null = the editor's. */
  locale: string | null;
}

export const DEFAULTS: ServerSettings = {
  python: null,
  run: {
    backend: "mock",
    timeout: 60,
    validateCredentials: false,
    credentialType: "api-key",
    toolPlugins: [],
    openai: {
      baseUrl: "https://api.openai.com/v1",
      apiKeyEnv: "OPENAI_API_KEY",
      models: {
        llm: "gpt-4o-mini",
        "text-embedding": "text-embedding-3-small",
        rerank: "rerank",
        tts: "tts-1",
        speech2text: "whisper-1",
        moderation: "omni-moderation-latest",
      },
    },
  },
  diagnostics: { files: true, schema: true, python: true, permissions: true },
  select: [],
  extendSelect: [],
  ignore: [],
  marketplace: false,
  cache: true,
  debounceMs: 200,
  locale: null,
};

/** Settings read by the client only, never sent to the server. */
export const CLIENT_ONLY_KEYS = ["server.path", "trace.server"] as const;

/** Top-level keys (under "dify.") of the settings the server reads. */
export const SERVER_SECTIONS = ["python", "run", "diagnostics", "select", "extendSelect", "ignore", "marketplace", "cache", "debounceMs", "locale"] as const;

/** Keys (under "dify.") whose change needs the server process restarted. */
export const RESTART_KEYS = ["server.path"] as const;

/** Reads one key under "dify." (e.g. "run.backend"); undefined when unset. */
export type SettingGetter = (key: string) => unknown;

function str(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

function positiveNumber(value: unknown): number | undefined {
  const n = typeof value === "string" ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) && n > 0 ? n : undefined;
}

function bool(value: unknown): boolean | undefined {
  return typeof value === "boolean" ? value : undefined;
}

function nonNegativeNumber(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}

function strings(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) {
    return undefined;
  }
  return value.map(str).filter((v): v is string => v !== undefined);
}

function models(value: unknown): Record<string, string> | undefined {
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const s = str(v);
    if (s) {
      out[k] = s;
    }
  }
  return out;
}

/**
 * Builds the complete server settings object. Every key is present (unset
 * ones take the defaults; an unset interpreter is null) so that a setting the
 * user removes also goes back to its default on the server, which merges
 * what it receives into what it has.
 */
export function toServerSettings(get: SettingGetter, expand: (p: string) => string = (p) => p): ServerSettings {
  const backendRaw = get("run.backend");
  const backend: Backend = backendRaw === "openai" || backendRaw === "mock" ? backendRaw : DEFAULTS.run.backend;
  const python = str(get("python"));
  const diagnostics = {} as Record<Family, boolean>;
  for (const family of FAMILIES) {
    diagnostics[family] = bool(get(`diagnostics.${family}`)) ?? DEFAULTS.diagnostics[family];
  }
  const credentialType = get("run.credentialType");
  const locale = str(get("locale"));
  return {
    python: python ? expand(python) || null : null,
    run: {
      backend,
      timeout: positiveNumber(get("run.timeout")) ?? DEFAULTS.run.timeout,
      validateCredentials: bool(get("run.validateCredentials")) ?? DEFAULTS.run.validateCredentials,
      credentialType: credentialType === "oauth" || credentialType === "api-key" ? credentialType : DEFAULTS.run.credentialType,
      toolPlugins: (strings(get("run.toolPlugins")) ?? []).map((p) => expand(p)).filter((p) => p !== ""),
      openai: {
        baseUrl: str(get("run.openai.baseUrl")) ?? DEFAULTS.run.openai.baseUrl,
        apiKeyEnv: str(get("run.openai.apiKeyEnv")) ?? DEFAULTS.run.openai.apiKeyEnv,
        models: models(get("run.openai.models")) ?? { ...DEFAULTS.run.openai.models },
      },
    },
    diagnostics,
    select: strings(get("select")) ?? [],
    extendSelect: strings(get("extendSelect")) ?? [],
    ignore: strings(get("ignore")) ?? [],
    marketplace: bool(get("marketplace")) ?? DEFAULTS.marketplace,
    cache: bool(get("cache")) ?? DEFAULTS.cache,
    debounceMs: nonNegativeNumber(get("debounceMs")) ?? DEFAULTS.debounceMs,
    locale: locale ?? null, // the server decides (an unknown language means English)
  };
}

/** Whether a configuration change needs a restart (given "affects dify.<key>"). */
export function changeNeedsRestart(affects: (fullKey: string) => boolean): boolean {
  return RESTART_KEYS.some((key) => affects(`dify.${key}`));
}

/** Whether a configuration change concerns settings the server reads. */
export function changeConcernsServer(affects: (fullKey: string) => boolean): boolean {
  return SERVER_SECTIONS.some((key) => affects(`dify.${key}`));
}
