"""beforeCommands read as the packages they install, when that is all they do; any
other command, or one read with doubt, is refused (None) and then runs as written."""

from __future__ import annotations

import pytest

from environments.pip_commands import PipInstalls, pip_commands_describe, pip_commands_read


def read(*commands: str, files: dict[str, str | bytes] | None = None) -> PipInstalls | None:
    return pip_commands_read(list(commands), files or {})


def requirements(*commands: str, files: dict[str, str | bytes] | None = None) -> list[str]:
    installs = read(*commands, files=files)
    assert installs is not None, f"{commands} were refused"
    return list(installs.requirements)


# What is read


def test_the_articles_pinned_pip_install_is_read_as_its_requirement() -> None:
    assert read("pip install colorama==0.4.0") == PipInstalls(
        requirements=("colorama==0.4.0",), upgrade=False
    )


@pytest.mark.parametrize(
    "program",
    [
        "pip",
        "pip3",
        "pip3.11",
        "python -m pip",
        "python3 -m pip",
        "python3.11 -m pip",
        "uv pip",
    ],
)
def test_every_usual_way_of_calling_pip_is_read(program: str) -> None:
    assert requirements(f"{program} install colorama==0.4.0 requests") == [
        "colorama==0.4.0",
        "requests",
    ]


def test_the_requirements_of_several_commands_are_kept_in_their_order() -> None:
    assert requirements(
        "pip install requests", "uv pip install 'pandas>=2' \"numpy<2\"", "pip3 install requests"
    ) == ["requests", "pandas>=2", "numpy<2", "requests"]


def test_a_quoted_requirement_may_hold_spaces_extras_and_markers() -> None:
    assert requirements(
        """pip install "pandas >= 2, < 3" 'requests[socks]; python_version >= "3.8"'"""
    ) == ["pandas >= 2, < 3", 'requests[socks]; python_version >= "3.8"']


def test_an_unquoted_extra_is_read_when_it_matches_no_file_the_shell_could_put_there() -> None:
    assert requirements("pip install requests[socks]") == ["requests[socks]"]
    assert read("pip install requests[socks]", files={"requestss": "a file"}) is None


def test_a_backslash_escape_is_read_as_the_shell_reads_it() -> None:
    assert requirements(r"pip install colorama\=\=0.4.0") == ["colorama==0.4.0"]


@pytest.mark.parametrize(
    "options",
    [
        "-q",
        "-qq",
        "-qqq",
        "--quiet",
        "--no-cache-dir",
        "--disable-pip-version-check",
        "--no-input",
        "--root-user-action=ignore",
        "--root-user-action ignore",
        "--progress-bar off",
        "--progress-bar=off",
        "--no-warn-script-location",
        "-q --no-cache-dir --disable-pip-version-check --root-user-action ignore",
    ],
)
def test_pip_options_that_change_only_how_it_installs_are_accepted(options: str) -> None:
    assert read(f"pip install {options} colorama==0.4.0") == PipInstalls(
        requirements=("colorama==0.4.0",), upgrade=False
    )
    assert requirements(f"pip install colorama==0.4.0 {options}") == ["colorama==0.4.0"]


@pytest.mark.parametrize(
    "options", ["-q", "-qq", "--quiet", "--no-cache-dir", "--disable-pip-version-check", "--system"]
)
def test_uv_options_that_change_only_how_it_installs_are_accepted(options: str) -> None:
    assert requirements(f"uv pip install {options} colorama==0.4.0") == ["colorama==0.4.0"]


@pytest.mark.parametrize(
    "command",
    [
        "pip install --system colorama",  # pip has no --system: the command fails today
        "uv pip install --no-input colorama",
        "uv pip install --root-user-action=ignore colorama",
        "uv pip install --progress-bar off colorama",
        "uv pip install --no-warn-script-location colorama",
    ],
)
def test_an_option_the_other_tool_has_is_refused_so_a_failing_command_still_fails(
    command: str,
) -> None:
    assert read(command) is None


@pytest.mark.parametrize("flag", ["-U", "--upgrade"])
def test_an_upgrade_is_noted(flag: str) -> None:
    assert read("pip install requests", f"pip install {flag} pandas") == PipInstalls(
        requirements=("requests", "pandas"), upgrade=True
    )


# Requirements files


@pytest.mark.parametrize(
    "argument",
    ["-r req.txt", "-rreq.txt", "--requirement req.txt", "--requirement=req.txt", "-r ./req.txt"],
)
def test_a_requirements_file_the_task_brings_is_read(argument: str) -> None:
    files: dict[str, str | bytes] = {"req.txt": "colorama==0.4.0\nrequests\n"}
    assert requirements(f"pip install {argument}", files=files) == ["colorama==0.4.0", "requests"]


def test_a_requirements_file_is_read_in_place_among_the_other_requirements() -> None:
    files: dict[str, str | bytes] = {"deps/req.txt": "pandas\n"}
    assert requirements(
        "pip install requests -r deps/req.txt numpy", "uv pip install -r deps/req.txt", files=files
    ) == ["requests", "pandas", "numpy", "pandas"]


def test_comments_blank_lines_and_continuations_are_read_as_pip_reads_them() -> None:
    content = (
        "# what the task needs\n"
        "\n"
        "colorama==0.4.0  # the article's\n"
        "requests[socks] \\\n"
        "  >=2.31 \\\n"
        "# a comment inside a continuation ends it\n"
        "pandas>=2 ; python_version >= '3.9'\n"
        "   \n"
        "numpy#not-a-comment-without-a-space-before\n"
    )
    assert read("pip install -r req.txt", files={"req.txt": content}) is None
    content = content.replace("numpy#not-a-comment-without-a-space-before\n", "numpy # numbers\n")
    assert requirements("pip install -r req.txt", files={"req.txt": content}) == [
        "colorama==0.4.0",
        "requests[socks]   >=2.31",
        "pandas>=2 ; python_version >= '3.9'",
        "numpy",
    ]


def test_a_requirements_file_given_as_bytes_is_read_as_utf_8() -> None:
    files: dict[str, str | bytes] = {"req.txt": b"\xef\xbb\xbfrequests\r\n# \xc3\xa9t\xc3\xa9\r\n"}
    assert requirements("pip install -r req.txt", files=files) == ["requests"]


@pytest.mark.parametrize(
    ("command", "content"),
    [
        ("pip install -r other.txt", "requests"),  # not brought by the task
        ("pip install -r", "requests"),
        ("pip install -r ../req.txt", "requests"),
        ("pip install -r /work/req.txt", "requests"),
        ("pip install -r req.txt", "-r more.txt"),
        ("pip install -r req.txt", "-c constraints.txt\nrequests"),
        ("pip install -r req.txt", "--index-url https://example.org/simple\nrequests"),
        ("pip install -r req.txt", "--extra-index-url https://example.org/simple\nrequests"),
        ("pip install -r req.txt", "-e .\nrequests"),
        ("pip install -r req.txt", "requests==2.32.3 --hash=sha256:70761cfe03c773ceb22aa2f6"),
        ("pip install -r req.txt", "requests\n./local-package"),
        ("pip install -r req.txt", "requests\nlocal-1.0-py3-none-any.whl"),
        ("pip install -r req.txt", "requests @ https://example.org/requests.tar.gz"),
        ("pip install -r req.txt", "requests==${VERSION}"),
        ("pip install -r req.txt", "requests\nthis is not a requirement"),
        ("pip install -r req.txt", "# coding: latin-1\nrequests"),
        ("pip install -r req.txt", "requests\x0cpandas"),
        ("pip install -r req.txt", "# only comments\n\n"),  # nothing to install
    ],
)
def test_a_requirements_file_that_is_missing_or_holds_more_than_requirements_is_refused(
    command: str, content: str
) -> None:
    assert read(command, files={"req.txt": content}) is None


def test_a_requirements_file_that_is_not_utf_8_is_refused() -> None:
    assert read("pip install -r req.txt", files={"req.txt": b"requests\n\xff\xfe"}) is None


@pytest.mark.parametrize("name", ["pyproject.toml", "setup.py", "setup.cfg", "script.py"])
def test_a_file_uv_would_read_as_project_metadata_is_refused(name: str) -> None:
    assert read(f"uv pip install -r {name}", files={name: "requests"}) is None


# What is refused


def test_no_commands_are_not_an_install() -> None:
    assert read() is None


@pytest.mark.parametrize(
    "command",
    [
        "pip install colorama; rm -rf /tmp/x",
        "pip install colorama && echo done",
        "pip install colorama || true",
        "pip install colorama | tee log",
        "pip install colorama > log",
        "pip install colorama 2>/dev/null",
        "pip install colorama < /dev/null",
        "pip install colorama &",
        "pip install $PACKAGE",
        "pip install 'colorama==$VERSION'",
        'pip install "colorama==`cat version`"',
        "pip install (colorama)",
        "pip install colorama\necho done",
        "pip install colorama\r",
        "pip install colorama # the article's",
        "pip install colorama#egg",
        "pip install {colorama,requests}",
        "pip install ~/colorama",
        "pip install --requirement=~/req.txt",
        "FOO=1 pip install colorama",
        "sudo pip install colorama",
        "exec pip install colorama",
        "pip install 'colorama",
        "pip install colorama\\",
    ],
)
def test_any_shell_syntax_is_refused(command: str) -> None:
    assert read(command) is None


@pytest.mark.parametrize(
    "command",
    [
        "pip install colorama>=0.4",  # installs colorama, output into a file named =0.4
        "pip install colorama<1",
        "pip install -r ~/req.txt",
        "pip install --requirement=~/req.txt",
        "pip install -r req*.txt",
        "pip install -r req?.txt",
    ],
)
def test_what_reads_as_a_requirement_to_pip_but_not_to_the_shell_is_refused(command: str) -> None:
    files: dict[str, str | bytes] = {"~/req.txt": "requests", "req1.txt": "requests"}
    assert read(command, files=files) is None


@pytest.mark.parametrize(
    "command",
    [
        "/usr/local/bin/pip install colorama",
        "./pip install colorama",
        "pip2 install colorama",
        "pipx install colorama",
        "pip download colorama",
        "pip uninstall -y colorama",
        "pip -q install colorama",
        "pip",
        "python -m pip download colorama",
        "python -mpip install colorama",
        "python2 -m pip install colorama",
        "python -c 'import pip' install colorama",
        "uv add colorama",
        "uv pip sync requirements.txt",
        "conda install colorama",
        "apt-get install python3-colorama",
        "echo pip install colorama",
    ],
)
def test_a_program_that_is_not_a_pip_install_is_refused(command: str) -> None:
    assert read(command) is None


@pytest.mark.parametrize(
    "option",
    [
        "-e .",
        "-i https://example.org/simple",
        "--index-url https://example.org/simple",
        "--extra-index-url https://example.org/simple",
        "--pre",
        "-c constraints.txt",
        "--target /opt/lib",
        "-t /opt/lib",
        "--prefix /opt",
        "--user",
        "--no-deps",
        "--break-system-packages",
        "--root-user-action=warn",
        "--progress-bar on",
        "--progress-bar",
        "-qU",
        "-v",
        "--upgr",
        "-r=req.txt",
        "--",
    ],
)
def test_any_other_option_is_refused(option: str) -> None:
    assert read(f"pip install {option} colorama", files={"req.txt": "requests"}) is None


@pytest.mark.parametrize(
    "requirement",
    [
        ".",
        "./colorama",
        "src/colorama",
        "colorama-0.4.0-py2.py3-none-any.whl",
        "colorama-0.4.0.tar.gz",
        "colorama.zip",
        "git+https://github.com/tartley/colorama",
        "https://example.org/colorama-0.4.0.tar.gz",
        "'colorama @ https://example.org/colorama-0.4.0.tar.gz'",
        "==0.4.0",
        "colorama==",
        "''",
        "colorama=0.4.0",
    ],
)
def test_anything_but_a_package_from_the_index_is_refused(requirement: str) -> None:
    assert read(f"pip install {requirement}") is None


def test_a_name_that_is_a_file_or_folder_the_task_brings_is_refused() -> None:
    assert read("pip install mypackage", files={"mypackage/__init__.py": ""}) is None
    assert read("pip install mypackage", files={"mypackage": ""}) is None


@pytest.mark.parametrize(
    "command", ["pip install", "pip install -q --no-cache-dir", "uv pip install"]
)
def test_an_install_of_nothing_is_refused(command: str) -> None:
    assert read(command) is None


def test_one_command_that_is_not_an_install_spoils_them_all() -> None:
    assert read("pip install colorama==0.4.0", "echo ready") is None
    assert read("pip install colorama==0.4.0", "") is None


# Described for a log line


def test_the_installs_are_described_by_count_and_names() -> None:
    one = PipInstalls(requirements=("colorama==0.4.0",), upgrade=False)
    two = PipInstalls(requirements=("colorama==0.4.0", "requests"), upgrade=False)
    assert pip_commands_describe(one) == "1 package from beforeCommands (colorama==0.4.0)"
    assert (
        pip_commands_describe(two) == "2 packages from beforeCommands (colorama==0.4.0, requests)"
    )


def test_a_long_list_of_installs_is_cut_after_five_names() -> None:
    installs = PipInstalls(requirements=tuple("abcdefg"), upgrade=True)
    assert pip_commands_describe(installs) == "7 packages from beforeCommands (a, b, c, d, e, …)"
