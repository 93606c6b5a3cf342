"""The SDK release that introduced each key of each file kind (dify-plugin on PyPI).

Found by reading the pydantic classes (annotated fields and their aliases, inherited ones included)
of the released wheels with ``ast``, bisecting the release list until the first release having each
field is known exactly: 85 of the releases in :data:`dify_lsp.sdk.releases.RELEASES` were read
(2026-12-01).  Each schema object is matched with the SDK class that loads it; a key is "since" the
first release whose class has it (a class renamed between releases counts from its new name).
"""

from __future__ import annotations

# schema object (a name in dify_lsp.schema.plugin_files) -> (SDK class, {key: first release})
SINCE: dict[str, tuple[str, dict[str, str]]] = {
    'MANIFEST_SCHEMA': ('PluginConfiguration', {'version': '0.0.1b3', 'type': '0.0.1b3', 'author': '0.0.1b3', 'name': '0.0.1b3', 'label': '0.0.1b3', 'description': '0.0.1b14', 'icon': '0.0.1b3', 'icon_dark': '0.4.1', 'resource': '0.0.1b3', 'plugins': '0.0.1b3', 'meta': '0.0.1b3', 'created_at': '0.0.1b3', 'repo': '0.2.4'}),
    'TOOL_PROVIDER_SCHEMA': ('ToolProviderConfiguration', {'identity': '0.0.1b3', 'credentials_for_provider': '0.0.1b3', 'credentials_schema': '0.0.1b3', 'oauth_schema': '0.3.1', 'tools': '0.0.1b3', 'extra': '0.0.1b3'}),
    'TOOL_SCHEMA': ('ToolConfiguration', {'identity': '0.0.1b3', 'description': '0.0.1b3', 'parameters': '0.0.1b3', 'output_schema': '0.0.1b3', 'extra': '0.0.1b3', 'has_runtime_parameters': '0.0.1b11'}),
    'TOOL_PARAMETER': ('ToolParameter', {'name': '0.0.1b3', 'label': '0.0.1b3', 'human_description': '0.0.1b3', 'type': '0.0.1b3', 'form': '0.0.1b3', 'scope': '0.0.1b3', 'llm_description': '0.0.1b3', 'required': '0.0.1b3', 'multiple': '0.10.0', 'default': '0.0.1b3', 'min': '0.0.1b3', 'max': '0.0.1b3', 'precision': '0.0.1b54', 'options': '0.0.1b3', 'auto_generate': '0.0.1b53', 'template': '0.0.1b53', 'input_schema': '0.3.3', 'show_on': '0.10.1'}),
    'OPTION': ('ToolParameterOption', {'value': '0.0.1b3', 'label': '0.0.1b3', 'icon': '0.4.0', 'show_on': '0.10.1'}),
    'TOOL_LIKE_IDENTITY': ('ToolIdentity', {'name': '0.0.1b3', 'author': '0.0.1b3', 'label': '0.0.1b3'}),
    'PROVIDER_CONFIG': ('ProviderConfig', {'name': '0.0.1b3', 'type': '0.0.1b3', 'scope': '0.0.1b3', 'required': '0.0.1b3', 'default': '0.0.1b3', 'options': '0.0.1b3', 'multiple': '0.6.0b2', 'label': '0.0.1b3', 'help': '0.0.1b3', 'url': '0.0.1b3', 'placeholder': '0.0.1b3'}),
    'PROVIDER_CONFIG_NAMED': ('ProviderConfig', {'name': '0.0.1b3', 'type': '0.0.1b3', 'scope': '0.0.1b3', 'required': '0.0.1b3', 'default': '0.0.1b3', 'options': '0.0.1b3', 'multiple': '0.6.0b2', 'label': '0.0.1b3', 'help': '0.0.1b3', 'url': '0.0.1b3', 'placeholder': '0.0.1b3'}),
    'OAUTH_SCHEMA': ('OAuthSchema', {'client_schema': '0.2.2', 'credentials_schema': '0.2.2'}),
    'AGENT_PROVIDER_SCHEMA': ('AgentStrategyProviderConfiguration', {'identity': '0.0.1b51', 'strategies': '0.0.1b51'}),
    'AGENT_STRATEGY_SCHEMA': ('AgentStrategyConfiguration', {'identity': '0.0.1b51', 'description': '0.0.1b51', 'parameters': '0.0.1b51', 'output_schema': '0.0.1b51', 'extra': '0.0.1b51', 'has_runtime_parameters': '0.0.1b51', 'features': '0.0.1b75'}),
    'AGENT_PARAMETER': ('AgentStrategyParameter', {'name': '0.0.1b51', 'label': '0.0.1b51', 'help': '0.2.0', 'type': '0.0.1b51', 'auto_generate': '0.0.1b53', 'template': '0.0.1b53', 'scope': '0.0.1b51', 'required': '0.0.1b51', 'default': '0.0.1b51', 'min': '0.0.1b51', 'max': '0.0.1b51', 'precision': '0.0.1b54', 'options': '0.0.1b51'}),
    'ENDPOINT_GROUP_SCHEMA': ('EndpointProviderConfiguration', {'settings': '0.0.1b3', 'endpoints': '0.0.1b3'}),
    'ENDPOINT_SCHEMA': ('EndpointConfiguration', {'path': '0.0.1b3', 'method': '0.0.1b3', 'hidden': '0.0.1b51', 'extra': '0.0.1b3'}),
    'MODEL_PROVIDER_SCHEMA': ('ModelProviderConfiguration', {'provider': '0.0.1b3', 'label': '0.0.1b3', 'description': '0.0.1b3', 'icon_small': '0.0.1b3', 'icon_large': '0.0.1b3', 'icon_small_dark': '0.10.0', 'icon_large_dark': '0.10.0', 'background': '0.0.1b3', 'help': '0.0.1b3', 'supported_model_types': '0.0.1b3', 'configurate_methods': '0.0.1b3', 'models': '0.0.1b3', 'provider_credential_schema': '0.0.1b3', 'model_credential_schema': '0.0.1b3', 'position': '0.0.1b8', 'extra': '0.0.1b3'}),
    'CREDENTIAL_FORM': ('CredentialFormSchema', {'variable': '0.0.1b3', 'label': '0.0.1b3', 'type': '0.0.1b3', 'required': '0.0.1b3', 'default': '0.0.1b3', 'options': '0.0.1b3', 'placeholder': '0.0.1b3', 'max_length': '0.0.1b3', 'show_on': '0.0.1b3'}),
    'FORM_OPTION': ('FormOption', {'label': '0.0.1b3', 'value': '0.0.1b3', 'show_on': '0.0.1b3'}),
    'MODEL_SCHEMA': ('AIModelEntity', {'model': '0.0.1b3', 'label': '0.0.1b3', 'model_type': '0.0.1b3', 'features': '0.0.1b3', 'fetch_from': '0.0.1b3', 'model_properties': '0.0.1b3', 'deprecated': '0.0.1b3', 'parameter_rules': '0.0.1b3', 'pricing': '0.0.1b3'}),
    'PARAMETER_RULE': ('ParameterRule', {'name': '0.0.1b3', 'use_template': '0.0.1b3', 'label': '0.0.1b3', 'type': '0.0.1b3', 'help': '0.0.1b3', 'required': '0.0.1b3', 'default': '0.0.1b3', 'min': '0.0.1b3', 'max': '0.0.1b3', 'precision': '0.0.1b3', 'options': '0.0.1b3'}),
    'PRICING': ('PriceConfig', {'input': '0.0.1b3', 'output': '0.0.1b3', 'unit': '0.0.1b3', 'currency': '0.0.1b3'}),
    'MODEL_CREDENTIAL_SCHEMA': ('ModelCredentialSchema', {'model': '0.0.1b3', 'credential_form_schemas': '0.0.1b3'}),
    'DATASOURCE_PROVIDER_SCHEMA': ('DatasourceProviderManifest', {'identity': '0.4.0b1', 'provider_type': '0.4.0b1', 'credentials_schema': '0.4.0b1', 'oauth_schema': '0.4.0b1', 'datasources': '0.4.0b1', 'extra': '0.4.0b1'}),
    'DATASOURCE_SCHEMA': ('DatasourceEntity', {'identity': '0.4.0b1', 'description': '0.4.0b1', 'parameters': '0.4.0b1', 'output_schema': '0.5.0b9', 'extra': '0.4.0b1'}),
    'DATASOURCE_PARAMETER': ('DatasourceParameter', {'name': '0.4.0b1', 'label': '0.4.0b1', 'type': '0.4.0b1', 'description': '0.4.0b1', 'placeholder': '0.4.0b1', 'scope': '0.4.0b1', 'auto_generate': '0.4.0b1', 'template': '0.4.0b1', 'required': '0.4.0b1', 'default': '0.4.0b1', 'min': '0.4.0b1', 'max': '0.4.0b1', 'precision': '0.4.0b1', 'options': '0.4.0b1'}),
    'DATASOURCE_PROVIDER_IDENTITY': ('DatasourceProviderIdentity', {'author': '0.4.0b1', 'name': '0.4.0b1', 'label': '0.4.0b1', 'description': '0.4.0b1', 'icon': '0.4.0b1', 'tags': '0.4.0b1'}),
    'TRIGGER_PROVIDER_SCHEMA': ('TriggerProviderConfiguration', {'identity': '0.4.5b1', 'subscription_schema': '0.4.5b1', 'subscription_constructor': '0.6.0b2', 'credentials_schema': '0.4.5b1', 'oauth_schema': '0.4.5b1', 'events': '0.6.0b4', 'extra': '0.4.5b1'}),
    'TRIGGER_EVENT_SCHEMA': ('EventConfiguration', {'identity': '0.6.0b4', 'description': '0.6.0b4', 'parameters': '0.6.0b4', 'output_schema': '0.6.0b4', 'extra': '0.6.0b4'}),
    'EVENT_PARAMETER': ('EventParameter', {'name': '0.6.0b4', 'label': '0.6.0b4', 'type': '0.6.0b4', 'auto_generate': '0.6.0b4', 'template': '0.6.0b4', 'scope': '0.6.0b4', 'required': '0.6.0b4', 'multiple': '0.6.0b4', 'default': '0.6.0b4', 'min': '0.6.0b4', 'max': '0.6.0b4', 'precision': '0.6.0b4', 'options': '0.6.0b4', 'description': '0.6.0b4'}),
    'SUBSCRIPTION_CONSTRUCTOR': ('TriggerSubscriptionConstructorConfiguration', {'parameters': '0.6.0b2', 'credentials_schema': '0.6.0b2', 'oauth_schema': '0.6.0b2', 'extra': '0.6.0b2'}),
    'TRIGGER_IDENTITY': ('TriggerProviderIdentity', {'author': '0.4.5b1', 'name': '0.4.5b1', 'label': '0.4.5b1', 'description': '0.4.5b1', 'icon': '0.4.5b1', 'icon_dark': '0.4.5b1', 'tags': '0.4.5b1'}),
}
