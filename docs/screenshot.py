"""Re-make docs/view.png, the README's picture of `llm-extract view`.

    .venv/bin/python docs/screenshot.py

fixture-sloppy against the gold and fixture-careful (replayed offline from the
shipped cache), its invented meeting selected, shot by headless system Chromium.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ["LLM_EXTRACT_HOME"] = str(folder / "home")
        from llm_extract.cache import Cache
        from llm_extract.extraction import extract
        from llm_extract.view import build_view, write_view

        runs = {}
        for model in ("fixture-sloppy", "fixture-careful"):
            runs[model] = folder / f"{model}.jsonl"
            extract(
                sorted((ROOT / "seeds").glob("*.txt")),
                model=model,
                cache=Cache(ROOT / "evals" / "fixtures" / "cache", mode="replay-only"),
                out=runs[model],
                progress=False,
            )
        page_path = write_view(
            folder / "review.html",
            build_view(
                runs["fixture-sloppy"],
                gold=ROOT / "evals" / "gold",
                against=runs["fixture-careful"],
            ),
        )
        shot = folder / "shot.png"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
            page = browser.new_page(viewport={"width": 1280, "height": 760})
            page.goto(f"{page_path.as_uri()}#a=000_5fadb3ca50ee0a75")
            page.wait_for_selector("body[data-ready=true]")
            page.locator('.card[data-key="a:m3"]').click()
            page.screenshot(path=str(shot))
            browser.close()
        out = ROOT / "docs" / "view.png"
        Image.open(shot).convert("RGB").quantize(colors=96).save(out, optimize=True)
        print(f"wrote {out} ({out.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
