"""File URIs <-> paths with the Windows rules, checked on any machine (``windows=True``), and the POSIX ones."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath, PureWindowsPath
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dify_lsp.features.client import uri_to_path as server_uri_to_path
from dify_lsp.uris import uri_to_fs_path, uri_to_path

WINDOWS_CASES = [
    # VS Code: lower-case drive, percent-encoded colon and spaces
    ("file:///c%3A/Users/dev/My%20Plugins/llm-tool/manifest.yaml", r"C:\Users\dev\My Plugins\llm-tool\manifest.yaml"),
    # Neovim, Python's Path.as_uri(): upper-case drive, plain colon
    ("file:///C:/Users/dev/My%20Plugins/llm-tool/manifest.yaml", r"C:\Users\dev\My Plugins\llm-tool\manifest.yaml"),
    ("file:///d:/work/%E6%8F%92%E4%BB%B6/tools/a.py", "D:\\work\\插件\\tools\\a.py"),
    ("file:///c%3A", "C:\\"),
    ("file:///c%3A/", "C:\\"),
    ("file://localhost/c:/x/y.yaml", r"C:\x\y.yaml"),
    # a network share
    ("file://fileserver/share/plugins/p/manifest.yaml", r"\\fileserver\share\plugins\p\manifest.yaml"),
    ("file:///c%3A/a%23b/%5Bx%5D.py", r"C:\a#b\[x].py"),
]


@pytest.mark.parametrize(("uri", "expected"), WINDOWS_CASES)
def test_windows_uri_to_path(uri, expected):
    assert uri_to_fs_path(uri, windows=True) == expected


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("file:///home/dev/My%20Plugins/llm-tool/manifest.yaml", "/home/dev/My Plugins/llm-tool/manifest.yaml"),
        ("file:///Users/dev/%E6%8F%92%E4%BB%B6/a.py", "/Users/dev/插件/a.py"),
        ("file://localhost/tmp/x.yaml", "/tmp/x.yaml"),
        # a drive-letter URI on a POSIX machine names the literal path /c:/...
        ("file:///c%3A/Users/dev/a.py", "/c:/Users/dev/a.py"),
        ("file:///", "/"),
    ],
)
def test_posix_uri_to_path(uri, expected):
    assert uri_to_fs_path(uri, windows=False) == expected


@pytest.mark.parametrize("uri", ["untitled:Untitled-1", "vscode-notebook-cell:/x.ipynb#W0", "git:/c%3A/a.py?ref", "https://x/y"])
def test_other_schemes_are_not_files(uri):
    assert uri_to_fs_path(uri, windows=True) is None
    assert uri_to_fs_path(uri, windows=False) is None
    assert uri_to_path(uri) is None


def test_the_spellings_of_one_windows_file_are_one_path():
    vscode, neovim = (uri for uri, _ in WINDOWS_CASES[:2])
    assert uri_to_fs_path(vscode, windows=True) == uri_to_fs_path(neovim, windows=True)
    # what the server keys documents by: pathlib's Windows paths compare without regard to case
    assert PureWindowsPath(uri_to_fs_path(vscode, windows=True)) == PureWindowsPath(r"c:\users\DEV\my plugins\llm-tool\MANIFEST.yaml")


def test_paths_as_the_server_writes_them_read_back():
    """The server writes locations with Path.as_uri(); a client sends them back unchanged."""
    assert uri_to_fs_path(PureWindowsPath(r"C:\Users\dev\My Plugins\a.py").as_uri(), windows=True) == r"C:\Users\dev\My Plugins\a.py"
    assert uri_to_fs_path(PureWindowsPath(r"\\fileserver\share\p\a.py").as_uri(), windows=True) == r"\\fileserver\share\p\a.py"
    assert uri_to_fs_path(PurePosixPath("/home/dev/插件/a b.py").as_uri(), windows=False) == "/home/dev/插件/a b.py"


segment = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters='\\/:*?"<>|'), min_size=1, max_size=12).filter(
    lambda s: s.strip(" .") == s
)


@given(drive=st.sampled_from("CDZ"), parts=st.lists(segment, min_size=1, max_size=5))
def test_windows_round_trip(drive, parts):
    path = f"{drive}:\\" + "\\".join(parts)
    assert uri_to_fs_path(PureWindowsPath(path).as_uri(), windows=True) == path
    # and through VS Code's spelling of the same file
    vscode = "file:///" + drive.lower() + "%3A/" + "/".join(quote(p, safe="") for p in parts)
    assert uri_to_fs_path(vscode, windows=True) == path


@given(parts=st.lists(segment, min_size=1, max_size=5))
def test_posix_round_trip(parts):
    path = "/" + "/".join(parts)
    assert uri_to_fs_path(PurePosixPath(path).as_uri(), windows=False) == path


def test_server_resolves_uris_with_this_machines_rules(tmp_path: Path):
    target = tmp_path / "My Plugins" / "a.py"
    assert server_uri_to_path(target.as_uri()) == target
    if os.name == "nt":  # VS Code's spelling of a real file of this machine
        drive, rest = str(target).split(":", 1)
        uri = "file:///" + drive.lower() + "%3A" + rest.replace("\\", "/").replace(" ", "%20")
        assert server_uri_to_path(uri) == target
        assert str(server_uri_to_path(uri))[0].isupper()
