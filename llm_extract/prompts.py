"""Prompt templates: `prompts/<name>.system.j2` and `prompts/<name>.user.j2` (jinja2).

The system part is rendered once per run (rules and the worked examples from
`prompts/examples/`; the alias table is applied to the answer, not sent); the user
part per article, with the article text between two marker lines derived from the
text's own hash, so no article can close the data block early and speak as the
instructions. Every
result records the template name and a hash of everything but the article,
so runs with equal hashes saw the same prompt.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from llm_extract.errors import ConfigError
from llm_extract.schemas import ArticleExtraction, PromptInfo
from llm_extract.settings import DEFAULT_PROMPT

__all__ = ["DEFAULT_PROMPT", "Prompt", "load_prompt", "prompts_dir"]


def prompts_dir() -> Path:
    """$LLM_EXTRACT_PROMPTS, else the project's `prompts/` (linked into the package for installs)."""
    if env := os.environ.get("LLM_EXTRACT_PROMPTS"):
        return Path(env)
    return Path(__file__).resolve().parent / "prompt_templates"


@dataclass(frozen=True)
class Prompt:
    """A rendered system message and the user template, ready for many articles."""

    name: str
    system: str
    hash: str
    _user: jinja2.Template

    @property
    def info(self) -> PromptInfo:
        return PromptInfo(name=self.name, hash=self.hash)

    def user(
        self,
        text: str,
        *,
        published: Any = None,
        chunk: tuple[int, int] | None = None,
    ) -> str:
        """The user message for one article (or one chunk: 1-based index, count)."""
        marker = f"=====ARTICLE-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:12]}====="
        return self._user.render(
            text=text,
            published=published.isoformat() if hasattr(published, "isoformat") else published,
            chunk=None if chunk is None else {"index": chunk[0], "count": chunk[1]},
            marker=marker,
        )


def load_prompt(name: str = DEFAULT_PROMPT, directory: str | Path | None = None) -> Prompt:
    """Load the template pair and render the system part (once per run: an `Extractor` keeps it).

    A missing template is a ConfigError that names the prompts there are.
    """
    folder = Path(directory) if directory is not None else prompts_dir()
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        autoescape=False,
    )
    try:
        system_template = env.get_template(f"{name}.system.j2")
        user_template = env.get_template(f"{name}.user.j2")
    except jinja2.TemplateNotFound as err:
        known = sorted(p.name.removesuffix(".system.j2") for p in folder.glob("*.system.j2"))
        raise ConfigError(
            f"no prompt template {err.name} in {folder}; "
            f"known prompts: {', '.join(known) or 'none'}"
        ) from None
    system = system_template.render(
        schema_name=ArticleExtraction.__name__,
        examples=_examples(folder / "examples"),
    ).strip()
    placeholder = user_template.render(
        text="{article}", published="{published}", chunk=None, marker="{marker}"
    )
    digest = hashlib.sha256(f"{name}\0{system}\0{placeholder}".encode()).hexdigest()[:12]
    return Prompt(name=name, system=system, hash=digest, _user=user_template)


def _examples(folder: Path) -> list[dict[str, str]]:
    """Worked examples: `X.txt` (an invented article) with `X.json` (its answer)."""
    examples = []
    for answer_path in sorted(folder.glob("*.json")):
        raw = json.loads(answer_path.read_text(encoding="utf-8"))
        ArticleExtraction.model_validate(raw["extraction"])  # a broken example fails loudly
        examples.append(
            {
                "published": raw["published"],
                "article": answer_path.with_suffix(".txt").read_text(encoding="utf-8").strip(),
                "answer": json.dumps(raw["extraction"], ensure_ascii=False),
            }
        )
    return examples
