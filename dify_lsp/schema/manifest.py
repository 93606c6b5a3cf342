"""Schema of manifest.yaml (SDK ``PluginConfiguration``; daemon ``PluginDeclaration``)."""

from __future__ import annotations

from dify_lsp.schema.common import *  # noqa: F403 - the shared vocabulary of every schema

# --- manifest.yaml ------------------------------------------------------------

PERMISSION = Obj(
    "permission",
    (
        Field("tool", Obj("tool permission", (Field("enabled", B, False, "allow invoking tools (session.tool)", nullable=True),)), False, "invoking other tools", nullable=True),
        Field(
            "model",
            Obj(
                "model permission",
                (
                    Field("enabled", B, False, "allow invoking models at all (needed with any model flag)", nullable=True),
                    Field("llm", B, False, "allow session.model.llm", nullable=True),
                    Field("text_embedding", B, False, "allow session.model.text_embedding", nullable=True),
                    Field("rerank", B, False, "allow session.model.rerank", nullable=True),
                    Field("tts", B, False, "allow session.model.tts", nullable=True),
                    Field("speech2text", B, False, "allow session.model.speech2text", nullable=True),
                    Field("moderation", B, False, "allow session.model.moderation", nullable=True),
                ),
            ),
            False,
            "invoking the workspace's models",
            nullable=True,
        ),
        Field("node", Obj("node permission", (Field("enabled", B, False, "allow invoking workflow nodes (session.workflow_node)", nullable=True),)), False, "invoking workflow nodes", nullable=True),
        Field("endpoint", Obj("endpoint permission", (Field("enabled", B, False, "allow registering endpoints", nullable=True),)), False, "registering endpoints", nullable=True),
        Field("app", Obj("app permission", (Field("enabled", B, False, "allow invoking apps (session.app)", nullable=True),)), False, "invoking Dify apps", nullable=True),
        Field(
            "storage",
            Obj(
                "storage permission",
                (
                    Field("enabled", B, False, "allow the persistent key-value storage (session.storage)", nullable=True),
                    Field("size", I, False, f"storage size in bytes ({STORAGE_MIN} to {STORAGE_MAX}; default 1048576)", minimum=STORAGE_MIN, maximum=STORAGE_MAX),
                ),
            ),
            False,
            "persistent storage",
            nullable=True,
        ),
    ),
    doc="What the plugin may call back into Dify; the daemon refuses anything not granted.",
)

MANIFEST_SCHEMA = Obj(
    "plugin manifest",
    (
        Field("version", S, True, "the plugin version (the daemon's three-part format, and a PEP 440 version for the SDK)", pattern=VERSION_PATTERN, pattern_doc=VERSION_DOC, pep440=True),
        Field("type", S, True, "always `plugin`", enum={"plugin": "a Dify plugin"}),
        Field("author", S, True, "the author / organization id; part of the plugin id author/name", pattern=AUTHOR_PATTERN, pattern_doc=AUTHOR_DOC),
        Field("name", S, True, "the plugin name; part of the plugin id author/name", pattern=PLUGIN_NAME_PATTERN, pattern_doc=PLUGIN_NAME_DOC),
        i18n("label", "the plugin's display name", True),
        i18n("description", "what the plugin does", True),
        Field("icon", S, True, "icon file name in _assets/ (packaging fails with \"plugin icon not found\")", max_length=128, path_kind=ICON),
        Field("icon_dark", S, False, "dark-mode icon file name in _assets/", max_length=128, path_kind=ICON, nullable=True),
        Field(
            "resource",
            Obj(
                "resource",
                (
                    Field("memory", I, True, "memory the plugin needs, in bytes"),
                    Field("permission", PERMISSION, False, "what the plugin may invoke", nullable=True),
                ),
                doc="Resources and permissions.",
            ),
            True,
            "resource requirements and permissions",
        ),
        Field(
            "plugins",
            Obj(
                "plugins",
                (
                    Field("tools", ListOf(S), False, "tool provider YAML files", path_kind=TOOL_PROVIDER, max_length=128),
                    Field("models", ListOf(S), False, "model provider YAML files (a model plugin cannot declare anything else)", path_kind=MODEL_PROVIDER, max_length=128),
                    Field("endpoints", ListOf(S), False, "endpoint group YAML files", path_kind=ENDPOINT_GROUP, max_length=128),
                    Field("agent_strategies", ListOf(S), False, "agent strategy provider YAML files (cannot be combined with other kinds)", path_kind=AGENT_PROVIDER, max_length=128),
                    Field("datasources", ListOf(S), False, "datasource provider YAML files (cannot be combined with other kinds)", path_kind=DATASOURCE_PROVIDER, max_length=128),
                    Field("triggers", ListOf(S), False, "trigger provider YAML files (cannot be combined with other kinds)", path_kind=TRIGGER_PROVIDER, max_length=128),
                ),
                doc="The extensions the plugin provides: at least one kind; tools + endpoints may be combined, the others stand alone.",
            ),
            True,
            "the providers this plugin declares",
        ),
        Field(
            "meta",
            Obj(
                "meta",
                (
                    Field("version", S, True, "version of the manifest format", pattern=VERSION_PATTERN, pattern_doc=VERSION_DOC),
                    Field("arch", ListOf(S), True, "CPU architectures the plugin runs on", enum=PLUGIN_ARCH),
                    Field(
                        "runner",
                        Obj(
                            "runner",
                            (
                                Field("language", S, True, "the runtime language", enum=RUNNER_LANGUAGES),
                                Field("version", S, True, "the language version, e.g. \"3.12\" (quote it)", max_length=128),
                                Field("entrypoint", S, True, "the module started by the runner, e.g. main", max_length=256),
                            ),
                            doc="How the plugin is started.",
                        ),
                        True,
                        "how the plugin is started",
                    ),
                    Field("minimum_dify_version", S, False, "the oldest Dify version that can run the plugin", pattern=PEP440_PATTERN, pattern_doc=PEP440_DOC, nullable=True),
                ),
                doc="Manifest format and runtime.",
            ),
            True,
            "manifest format version, architectures and runner",
        ),
        Field("created_at", DT, True, "creation time, RFC 3339 (e.g. 2025-01-08T10:00:00+08:00)"),
        Field("privacy", S, False, "path or URL of the privacy policy", nullable=True),
        Field("repo", S, False, "URL of the source repository", nullable=True),
        Field("contact", S, False, "an e-mail address for users and reviewers: the Marketplace review requires it; the SDK and the daemon do not read it", nullable=True),
        Field("verified", B, False, "set by the marketplace"),
        Field("tags", ListOf(S), False, "marketplace categories (not read by the SDK)", enum=PLUGIN_TAGS, nullable=True),
    ),
    doc="The plugin manifest: identity, resources, permissions and the providers it declares.",
)
