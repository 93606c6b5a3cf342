"""The SDK facts behind the Python truth rules, checked against the real SDK (the dify-plugin 0.10.2 venv).

- every plugin base class: its module, which plugin bases it is a subclass of, its abstract methods, and where
  its session lives (DL201 judges only those sessions, DL211/DL212 find plugin classes by these bases);
- a subclass that leaves an abstract method out really cannot be instantiated (DL215's message);
- the SDK mixin table (methods that count towards abstract ones);
- every invocation class the rules follow (``ChatAppInvocation(self.session)``) is the object the session holds
  at that path, so it calls Dify with the same wire type and permission;
- the logging handler DL209 names exists and is a stdout handler formatted for the daemon.
"""

from __future__ import annotations

import json
import subprocess

from dify_lsp.sdk import catalog
from dify_lsp.sdk.classes import SDK_CLASSES, SDK_MIXINS
from invocation_helpers import sdk_python

PROBE = r'''
import importlib, inspect, json, sys, logging
spec = json.loads(sys.stdin.read())
out = {"classes": {}, "abstract_error": {}, "mixins": {}, "invocations": {}, "handler": None}
keys = spec["keys"]
for name, module in spec["classes"].items():
    cls = getattr(importlib.import_module(module), name)
    kinds = [b.__name__ for b in cls.__mro__ if b.__name__ in keys and b.__module__.startswith("dify_plugin.interfaces")]
    init_src = inspect.getsource(cls.__init__) if "__init__" in vars(cls) else ""
    out["classes"][name] = {"kinds": kinds, "abstract": sorted(getattr(cls, "__abstractmethods__", ())),
                            "sets_session": "self.session = session" in init_src,
                            "takes_runtime": "runtime" in inspect.signature(cls.__init__).parameters}
    if getattr(cls, "__abstractmethods__", None):
        sub = type("Incomplete", (cls,), {})
        try:
            sub.__new__(sub)
            out["abstract_error"][name] = None
        except TypeError as exc:
            out["abstract_error"][name] = str(exc)
from dify_plugin.interfaces.model.openai_compatible import common
for name in spec["mixins"]:
    cls = getattr(common, name)
    out["mixins"][name] = sorted(k for k in vars(cls) if not k.startswith("__"))
from dify_plugin.core.runtime import Session
session = Session.empty_session()
for name, path in spec["invocations"].items():
    obj = session
    for part in path:
        obj = getattr(obj, part)
    out["invocations"][name] = [type(obj).__name__, type(obj).__module__]
from dify_plugin.config.logger_format import plugin_logger_handler
out["handler"] = [type(plugin_logger_handler).__name__, plugin_logger_handler.stream is sys.stdout]
print(json.dumps(out))
'''


def probe() -> dict:
    spec = {
        "keys": sorted(SDK_CLASSES),
        "classes": {c.name: c.module for c in SDK_CLASSES.values()},
        "mixins": sorted(SDK_MIXINS),
        "invocations": {k: list(v) for k, v in catalog.INVOCATION_PATHS.items()},
    }
    out = subprocess.run([str(sdk_python()), "-c", PROBE], input=json.dumps(spec), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


# the bases the SDK's loaders look for (intermediate SDK classes such as OAICompatProvider are not among them)
LOADER_BASES = {k for c in SDK_CLASSES.values() for k in c.kinds}


def test_sdk_facts_match_the_sdk():
    real = probe()
    for name, c in SDK_CLASSES.items():
        got = real["classes"][name]
        # kinds: the plugin bases the class is a subclass of (the table's base names only)
        assert sorted(k for k in got["kinds"] if k in LOADER_BASES) == sorted(c.kinds), name
        assert sorted(c.abstract) == got["abstract"], name
        if c.session == ("session",):
            assert got["sets_session"], f"{name}: the SDK does not keep the session on self.session"
        elif c.session == ("runtime", "session"):
            assert got["takes_runtime"] and not got["sets_session"], name
    # a subclass leaving the abstract methods out cannot be created: DL215 quotes this error
    for name, err in real["abstract_error"].items():
        assert err is not None and "Can't instantiate abstract class Incomplete" in err, (name, err)
    for name, methods in SDK_MIXINS.items():
        assert set(methods) <= set(real["mixins"][name])
    for name, (cls_name, module) in real["invocations"].items():
        assert cls_name == name and module.startswith("dify_plugin.invocations."), (name, cls_name, module)
    assert real["handler"] == ["StreamHandler", True]
