"""The README against the code: its sections in the guide's order, the environment table against the
variables the settings read, `kaizen --help` against the commands it documents, each `/command help`
against that command's table, and the jobs and exports against their sections."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from dotenv import dotenv_values

import bot.core.settings as settings_module
from bot.admin import blocks as admin_blocks
from bot.admin.rules import kinds
from bot.cli import EXPORTS, build_parser
from bot.core.context import jobs_by_name
from bot.core.settings import load_settings
from bot.features import FEATURES
from bot.feedback import blocks as feedback_blocks
from bot.feedback.rules import ANONYMOUS_A_DAY, EXPIRE_AFTER, REMIND_AFTER
from bot.goals import blocks as goals_blocks
from bot.goals.rules import MAX_OPEN_GOALS
from bot.goals.rules import MAX_TITLE_LENGTH as MAX_GOAL_LENGTH
from bot.ideas import blocks as ideas_blocks
from bot.kudos import blocks as kudos_blocks
from bot.kudos.rules import MAX_TEAM_KUDOS
from bot.lessons import blocks as lessons_blocks
from bot.lessons.rules import MAX_LESSON_LENGTH
from bot.mentor import blocks as mentor_blocks
from bot.mentor.matching import LEARNERS_PER_MENTOR
from bot.tips import blocks as tips_blocks
from bot.tips.rules import themes

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
DEFAULTS = load_settings({}, dotenv=False)

# The guide's order: set-up, what people do in Slack, running it, privacy, development.
SECTIONS = [
    "Five-minute set-up for a Slack admin",
    "/kudos and reactions",
    "/feedback",
    "/idea",
    "/tip",
    "/lesson",
    "/goal",
    "/mentor",
    "App Home",
    "/kaizen for admins",
    "Teams",
    "Running it",
    "Privacy: what a database administrator can and cannot see",
    "Development",
]
RUNNING = [
    "Commands",
    "Modes",
    "Delivery and /healthz",
    "The scheduler and scheduled jobs",
    "The weekly celebration",
    "The lead digest",
    "Exports",
    "Customer compliments",
    "Scaling out on PostgreSQL",
    "Operating it",
    "Environment variables",
]
DEVELOPMENT = ["Layout", "Tests", "Benchmarks"]

# What `/command help` answers, built as each handler builds it (for an admin, who sees every command).
HELP_TEXTS = {
    "/kudos": lambda: kudos_blocks.help_text(
        DEFAULTS.values, DEFAULTS.kudos_daily_limit, DEFAULTS.kudos_emoji, MAX_TEAM_KUDOS
    ),
    "/feedback": lambda: feedback_blocks.help_text(REMIND_AFTER.days, EXPIRE_AFTER.days, ANONYMOUS_A_DAY),
    "/idea": lambda: ideas_blocks.help_text(DEFAULTS.idea_categories),
    "/tip": lambda: tips_blocks.help_text(themes(), is_admin=True),
    "/lesson": lambda: lessons_blocks.help_text(themes(), DEFAULTS.lesson_promote_votes, MAX_LESSON_LENGTH),
    "/goal": lambda: goals_blocks.help_text(DEFAULTS.checkin_at, MAX_OPEN_GOALS, MAX_GOAL_LENGTH),
    "/mentor": lambda: mentor_blocks.help_text(DEFAULTS.skills, DEFAULTS.mentor_every_weeks, LEARNERS_PER_MENTOR),
    "/kaizen": lambda: admin_blocks.help_text(True, kinds(FEATURES), list(jobs_by_name(FEATURES))),
}
# Every command answers `help` with its help text, so the help text does not list itself.
HELP = "help"


# --- reading the README ----------------------------------------------------------------------------
def headings(level: int, text: str = README) -> list[str]:
    """The headings of one level, outside code blocks."""
    found, in_code = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#" * level + " "):
            found.append(line[level + 1 :].strip())
    return found


def section(title: str, level: int = 2) -> str:
    """The text under a heading, up to the next heading of the same level or higher."""
    lines = README.splitlines()
    start = lines.index("#" * level + " " + title) + 1
    end = next(
        (i for i in range(start, len(lines)) if re.match(rf"#{{1,{level}}} ", lines[i]) and not _in_code(lines, i)),
        len(lines),
    )
    return "\n".join(lines[start:end])


def _in_code(lines: list[str], index: int) -> bool:
    return sum(1 for line in lines[:index] if line.startswith("```")) % 2 == 1


def tables(text: str) -> list[list[list[str]]]:
    """The tables in `text`, each a list of rows (header and separator left out), each a list of cells."""
    found: list[list[list[str]]] = []
    current: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            found.append([_cells(row) for row in current[2:]])
            current = []
    return found


def _cells(row: str) -> list[str]:
    """A table row's cells; `\\|` inside a cell is a pipe, not a border."""
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", row.strip().strip("|"))]


def code_spans(text: str) -> list[str]:
    return re.findall(r"`([^`\n]+)`", text)


def subcommand(invocation: str, command: str) -> str:
    """What a `/command …` names: "" for the command alone, its first word when that is a lowercase
    word (`/kudos stats @ana` → "stats"), and "<text>" for free text (`/idea Pre-fill the form`,
    `/kudos @ana thanks`)."""
    words = invocation[len(command) :].split()
    if not words:
        return ""
    return words[0] if re.fullmatch(r"[a-z][a-z-]*", words[0]) else "<text>"


def invocations(text: str, command: str) -> list[str]:
    return [span for span in code_spans(text) if span == command or span.startswith(command + " ")]


# --- the order of the guide -----------------------------------------------------------------------
def test_the_first_lines_are_the_title_and_the_two_commands():
    lines = README.splitlines()
    assert lines[0] == "# Kaizen"
    assert lines[2] == "```sh" and lines[5] == "```"
    assert lines[3].startswith("make run ") and lines[4].startswith("make test ")


def test_the_sections_come_in_the_order_of_the_guide():
    assert headings(2) == SECTIONS
    assert headings(3, section("Running it")) == RUNNING
    assert headings(3, section("Development")) == DEVELOPMENT


def test_links_inside_the_readme_lead_to_a_heading():
    def anchor(heading: str) -> str:  # as GitHub makes it
        return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")

    anchors = {anchor(h) for level in range(1, 5) for h in headings(level)}
    links = set(re.findall(r"\]\(#([^)]+)\)", README))
    assert links and links <= anchors, links - anchors


# --- environment variables ------------------------------------------------------------------------
def variables_the_settings_read(monkeypatch) -> set[str]:
    """Every name load_settings() looks up, through the environment and `.env` alike."""
    read: set[str] = set()

    class Recorder(dict):
        def get(self, name, default=None):
            read.add(name)
            return default

    monkeypatch.setattr(settings_module, "os", SimpleNamespace(environ=Recorder()))
    monkeypatch.setattr(settings_module, "load_dotenv", lambda *args, **kwargs: None)
    settings_module.load_settings()
    return read


def environment_table() -> list[list[str]]:
    [table, *_] = tables(section("Environment variables", level=3))
    return table


def test_the_environment_table_has_every_variable_the_settings_read_and_no_other(monkeypatch):
    read = variables_the_settings_read(monkeypatch)
    assert {"SLACK_BOT_TOKEN", "DATABASE_URL", "KAIZEN_ENV_FILE"} <= read  # the recorder sees the lookups

    rows = environment_table()
    names = [name for row in rows for name in code_spans(row[0])]
    assert len(names) == len(set(names)) == len(rows), "one variable a row, each once"
    assert set(names) == read
    mentioned = set(re.findall(r"\b(?:KAIZEN|SLACK)_[A-Z_]+", "\n".join("|".join(row) for row in rows)))
    assert mentioned <= read, mentioned - read


def test_the_defaults_in_the_environment_table_are_the_settings_defaults():
    """Each default the table gives as a value (`09:30`), set explicitly, changes nothing."""
    given = {}
    for name_cell, default, *_ in environment_table():
        [name] = code_spans(name_cell)
        if re.fullmatch(r"`[^`]+`", default):
            given[name] = default.strip("`")
    assert len(given) >= 15
    assert load_settings(given, dotenv=False) == DEFAULTS


def test_every_kaizen_or_slack_name_in_the_readme_is_a_setting_or_the_tests_own(monkeypatch):
    known = variables_the_settings_read(monkeypatch)
    known |= set(re.findall(r'"(KAIZEN_[A-Z_]+)"', (ROOT / "tests" / "conftest.py").read_text()))
    names = set(re.findall(r"\b(?:KAIZEN|SLACK)_[A-Z][A-Z_]*[A-Z]\b", README))
    assert names <= known, names - known


def test_env_example_shows_every_variable_with_its_default(monkeypatch):
    example = dotenv_values(ROOT / ".env.example")
    # KAIZEN_ENV_FILE names the file itself, so it cannot be set in it: a comment tells of it.
    assert set(example) == variables_the_settings_read(monkeypatch) - {"KAIZEN_ENV_FILE"}
    assert "set KAIZEN_ENV_FILE\n# (default .env) in the environment" in (ROOT / ".env.example").read_text()
    assert load_settings({k: v for k, v in example.items() if v}, dotenv=False) == DEFAULTS


# --- kaizen --help --------------------------------------------------------------------------------
def commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(path, parser) for `kaizen` and each of its subcommands, however deep."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, subparser in action.choices.items():
                yield from commands(subparser, (*path, name))


def test_every_kaizen_subcommand_and_option_is_in_the_readme():
    spans = [span for span in code_spans(README) if span.startswith("kaizen ")]
    checked = 0
    for path, parser in commands(build_parser()):
        if not path:
            continue
        prefix = "kaizen " + " ".join(path)
        documented = [span for span in spans if span == prefix or span.startswith(prefix + " ")]
        assert documented, f"`{prefix} …` is not in the README"
        for action in parser._actions:
            for option in action.option_strings:
                if option.startswith("--") and option != "--help":
                    pattern = rf"(?<![\w-]){re.escape(option)}(?![\w-])"
                    assert any(re.search(pattern, span) for span in documented), f"`{prefix} {option}`"
                    checked += 1
            if not action.option_strings and action.choices and not isinstance(action, argparse._SubParsersAction):
                for choice in action.choices:  # `kaizen export kudos`, …
                    assert any(span.startswith(f"{prefix} {choice}") for span in documented), f"`{prefix} {choice}`"
                    checked += 1
    assert checked >= 12  # --http, --port, --workers, --threads, --http URL, --dry-run, --force, --since, 5 kinds


def test_every_export_has_its_columns_in_the_exports_section():
    exports = section("Exports", level=3)
    for kind in EXPORTS:
        assert any(span.startswith(f"kaizen export {kind}") for span in code_spans(exports)), kind


# --- jobs -----------------------------------------------------------------------------------------
def test_the_jobs_table_has_every_job_at_its_time():
    [table, *_] = tables(section("The scheduler and scheduled jobs", level=3))
    jobs = jobs_by_name(FEATURES)
    rows = {code_spans(row[0])[0]: row[1] for row in table}
    assert set(rows) == set(jobs)
    for name, when in rows.items():
        schedule = jobs[name].schedule(DEFAULTS)
        at = f"{schedule['hour']:02d}:{schedule['minute']:02d}"
        # A fixed time is written out; a time from the settings is named by its variable.
        assert at in when or re.search(r"`KAIZEN_\w+_AT`", when), (name, when)


def test_every_job_is_in_the_kaizen_jobs_run_row_and_the_run_job_help():
    [commands_table, *_] = tables(section("Commands", level=3))
    [jobs_run] = [row for row in commands_table if row[0].startswith("`kaizen jobs run")]
    assert set(re.findall(r"`([a-z-]+)`", jobs_run[1])) == set(jobs_by_name(FEATURES))


# --- each /command: its help text and its table ---------------------------------------------------
def command_sections() -> dict[str, str]:
    """Each Slack command's section, by the command its heading starts with."""
    return {title.split()[0]: section(title) for title in SECTIONS if title.startswith("/")}


def test_every_slash_command_with_a_help_text_has_a_section():
    assert set(command_sections()) == set(HELP_TEXTS)
    manifest_commands = {command.command for feature in FEATURES for command in feature.commands}
    assert manifest_commands == set(HELP_TEXTS)


@pytest.mark.parametrize("command", list(HELP_TEXTS))
def test_each_section_starts_with_one_table_of_its_commands(command):
    text = command_sections()[command]
    assert text.strip().startswith("| command | does |"), f"{command}: the table comes first"
    assert len(tables(text)) == 1, f"{command}: one table"
    for row in tables(text)[0]:
        assert invocations(row[0], command), f"{command}: a row that is no {command} command: {row[0]}"


@pytest.mark.parametrize("command", list(HELP_TEXTS))
def test_each_command_table_names_what_its_help_text_names(command):
    from_help = {subcommand(i, command) for i in invocations(HELP_TEXTS[command](), command)}
    [table] = tables(command_sections()[command])
    from_readme = {subcommand(i, command) for row in table for i in invocations(row[0], command)}
    assert len(from_help) >= 3
    assert from_readme == from_help | {HELP}, (
        f"only in the README: {from_readme - from_help - {HELP}}; only in `{command} help`: {from_help - from_readme}"
    )


def test_the_app_home_section_has_a_row_for_each_part_of_the_tab():
    [table] = tables(section("App Home"))
    parts = [feature for feature in FEATURES if feature.home]
    assert len(table) == len(parts)
