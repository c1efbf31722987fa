"""Properties of reading beforeCommands: generated installs read as what they name, any
text read or refused without an exception, and shell syntax always refused."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from environments.pip_commands import pip_commands_read

LOWER, DIGITS = "abcdefghijklmnopqrstuvwxyz", "0123456789"
names = st.builds(
    lambda first, rest, suffix: first + rest + (f"-{suffix}" if suffix else ""),
    st.sampled_from(LOWER),
    st.text(LOWER + DIGITS, max_size=8),
    st.text(LOWER + DIGITS, max_size=4),
)
versions = st.lists(st.integers(0, 999), min_size=1, max_size=3).map(
    lambda parts: ".".join(map(str, parts))
)
valid_requirements = st.one_of(
    names,
    st.builds(lambda name, version: f"{name}=={version}", names, versions),
    st.builds(lambda name, version: f"{name}>={version},<{version}9", names, versions),
    st.builds(lambda name: f"{name}[socks]", names),
)
FORMS = {
    "pip install": "pip",
    "pip3 install": "pip",
    "pip3.12 install": "pip",
    "python -m pip install": "pip",
    "python3 -m pip install": "pip",
    "python3.11 -m pip install": "pip",
    "uv pip install": "uv",
}
OPTIONS = {
    "pip": ["-q", "-qqq", "--quiet", "-U", "--upgrade", "--no-cache-dir", "--no-input"]
    + ["--disable-pip-version-check", "--root-user-action ignore", "--progress-bar=off"],
    "uv": ["-q", "-qq", "--quiet", "-U", "--upgrade", "--no-cache-dir", "--system"],
}


@st.composite
def pip_commands(draw: st.DrawFn) -> tuple[list[str], dict[str, str | bytes], list[str]]:
    """Commands of accepted forms and options, the files they read, and what they install."""
    commands: list[str] = []
    files: dict[str, str | bytes] = {}
    expected: list[str] = []
    groups = st.lists(st.lists(valid_requirements, min_size=1, max_size=4), min_size=1, max_size=4)
    for group in draw(groups):
        form = draw(st.sampled_from(sorted(FORMS)))
        words = [form]
        for requirement in group:
            words += draw(st.lists(st.sampled_from(OPTIONS[FORMS[form]]), max_size=2))
            if draw(st.booleans()):
                name = f"req{len(files)}.txt"
                files[name] = f"# file {name}\n{requirement}  # pinned\n"
                words.append(draw(st.sampled_from([f"-r {name}", f"--requirement=./{name}"])))
            else:
                bare = [] if set("<>") & set(requirement) else [requirement]  # redirections
                words.append(draw(st.sampled_from([*bare, f"'{requirement}'"])))
            expected.append(requirement)
        commands.append(" ".join(words))
    return commands, files, expected


@settings(max_examples=200, deadline=None)
@given(pip_commands())
def test_generated_installs_are_read_as_the_requirements_they_name_in_order(
    generated: tuple[list[str], dict[str, str | bytes], list[str]],
) -> None:
    commands, files, expected = generated
    installs = pip_commands_read(commands, files)
    assert installs is not None, commands
    assert list(installs.requirements) == expected
    assert installs.upgrade == any(" -U" in c or " --upgrade" in c for c in commands)


WORDS = ["pip", "uv", "python3", "-m", "install", "-r", "req.txt", "--requirement=", "-q", "'"]
WORDS += ['"', "\\", "colorama==0.4.0", "requests[socks]", ";", "#", "$X", "./", " ", "\t", "\n"]
file_contents = st.one_of(st.text(max_size=80), st.binary(max_size=80))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(st.text(max_size=60), st.lists(st.sampled_from(WORDS)).map(" ".join)),
        max_size=4,
    ),
    st.dictionaries(st.sampled_from(["req.txt", "requests[socks]", "a/b.txt"]), file_contents),
)
def test_any_text_is_read_or_refused_without_raising(
    commands: list[str], files: dict[str, str | bytes]
) -> None:
    installs = pip_commands_read(commands, files)
    assert installs is None or all(installs.requirements)


SHELL = ["; echo x", " && echo x", " || echo x", " | tee x", " > x", " < x", " &", " $X"]
SHELL += [" `x`", " (x)", "\necho x", " # x", " $(x)"]


@settings(max_examples=200, deadline=None)
@given(pip_commands(), st.sampled_from(SHELL), st.booleans())
def test_any_shell_syntax_added_to_an_install_refuses_it_all(
    generated: tuple[list[str], dict[str, str | bytes], list[str]], syntax: str, alone: bool
) -> None:
    commands, files, _ = generated
    if alone:
        commands.append(f"pip install colorama{syntax}")
    else:
        commands[-1] += syntax
    assert pip_commands_read(commands, files) is None
