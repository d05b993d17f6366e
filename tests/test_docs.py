"""The repository's own description stays linked and complete."""

import re

from capital.config import ROOT

SOURCES = [path for folder in ("capital", "tests") for path in (ROOT / folder).rglob("*.py")]


def test_every_docs_page_the_code_points_at_exists():
    cited = {match for path in SOURCES for match in re.findall(r"docs/[\w-]+\.md", path.read_text("utf-8"))}
    assert cited, "the code points at no docs page"
    assert [page for page in sorted(cited) if not (ROOT / page).is_file()] == []


def test_the_readme_documents_every_setting_config_reads():
    config = (ROOT / "capital" / "config.py").read_text("utf-8")
    settings = set(re.findall(r'_env\w*\("([A-Z_]+)"', config))
    readme = (ROOT / "README.md").read_text("utf-8")
    assert len(settings) > 15
    assert sorted(name for name in settings if f"`{name}`" not in readme) == []


def test_the_readme_documents_the_test_settings():
    conftest = (ROOT / "tests" / "conftest.py").read_text("utf-8") + (
        ROOT / "tests" / "tasks" / "test_worker.py").read_text("utf-8")
    settings = set(re.findall(r'environ\.get\("(TEST_[A-Z_]+)"', conftest))
    readme = (ROOT / "README.md").read_text("utf-8")
    assert settings == {"TEST_DATABASE_URL", "TEST_REDIS_URL", "TEST_WORKER_REDIS_URL"}
    assert all(f"`{name}`" in readme for name in settings)


def test_the_readme_layout_names_every_module_of_the_package():
    readme = (ROOT / "README.md").read_text("utf-8")
    layout = readme[readme.index("## Layout"):]
    modules = [path for path in (ROOT / "capital").glob("*.py") if path.name != "__init__.py"]
    modules += [path for path in (ROOT / "capital" / "domain").glob("*.py") if path.name != "__init__.py"]
    modules += [path for path in (ROOT / "capital" / "services").glob("*.py") if path.name != "__init__.py"]
    assert sorted(path.name for path in modules if path.name not in layout) == []
