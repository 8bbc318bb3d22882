"""Open every HTML page rtt wrote for some runs in headless Chromium; save a screenshot of each and
say what a person would stumble on.

    python scripts/check_pages.py --data-dir data [--run-id RUN ...] [--out docs/screenshots/pages]

The pages: each run's relevance and discriminator pages (`runs/<id>/*.html`), an `rtt report` page
per run (written here into --out), and every page in the lake's reports folder (`rtt compare`'s
pages, earlier `rtt report` pages). Every page must load without console errors, exceptions or
failed requests, fit the 1400-pixel window (nothing cut off at the right) and show every image;
pages with plots must have them, each with a caption; pages of tokens must have their legend and
colour scale, a scale per item, and the exact score on each token's hover. A page of a kind this
script does not know fails, so that a new page gets its checks here. Writes <out>/<page>.png and
<out>/pages.json; exits 1 when any page fails. Needs Debian's `chromium`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rtt.data.store import Store
from rtt.report import load_report, render_report
from rtt.testing.browser import Browser

EVERY_PAGE = {
    "has a title": "document.title.trim().length > 0",
    "has text": "document.body.innerText.trim().length > 0",
    "fits the window's width": "document.documentElement.scrollWidth <= window.innerWidth + 1",
    "every image shows": "[...document.images].every(i => i.complete && i.naturalWidth > 0)",
}
PLOTS = {
    "has plots": "document.querySelectorAll('figure img').length > 0",
    "every plot has a caption": "[...document.querySelectorAll('figure')]"
    ".every(f => (f.querySelector('figcaption')?.innerText || '').trim().length > 40)",
}
TOKENS = {
    "has the legend and its colour scale": "document.querySelectorAll('.legend .bar').length >= 3",
    "has the reading guide": "(document.querySelector('.legend')?.innerText || '').includes('How to read')",
    "every item has its scale": "document.querySelectorAll('.meta').length === "
    "document.querySelectorAll('.tokens').length && document.querySelectorAll('.tokens').length > 0",
    "every token shows its score on hover": "[...document.querySelectorAll('.tokens span')]"
    ".every(s => /^score \\d/.test(s.title))",
}
KINDS = {"report": PLOTS, "compare": PLOTS, "relevance": TOKENS, "discriminator": TOKENS}
"""Page kind (the file name up to its first '-' or '_') -> its checks beside EVERY_PAGE."""


def kind(page: Path) -> str:
    return page.stem.replace("_", "-").split("-")[0]


def pages(store: Store, run_ids: list[str], out: Path) -> list[Path]:
    """The runs' pages, a fresh `rtt report` page per run, and the reports folder's pages."""
    found = []
    for run_id in run_ids:
        found += sorted(store.run_dir(run_id).glob("*.html"))
        try:
            report = render_report(load_report(store, [run_id]))
        except ValueError as err:  # no evaluation yet: no report page
            print(f"no report page for {run_id}: {err}")
            continue
        (out / f"report-{run_id}.html").write_text(report)
        found.append(out / f"report-{run_id}.html")
    reports = store.state / "reports"
    return found + sorted(p for p in reports.glob("*.html") if p.resolve().parent != out.resolve())


def check(browser: Browser, page: Path, out: Path) -> dict:
    checks = {**EVERY_PAGE, **KINDS.get(kind(page), {})}
    visit = browser.visit(page.resolve().as_uri(), list(checks.values()))
    failed = [name for name, expression in checks.items() if visit.checks[expression] is not True]
    if kind(page) not in KINDS:
        failed.append(f"a page of unknown kind {kind(page)!r}: add its checks to KINDS")
    failed += [f"console: {e}" for e in visit.console_errors] + [f"request: {r}" for r in visit.failed_requests]
    run_page = page.parent.parent.name == "runs"  # runs/<id>/relevance_round0.html: named for its run
    shot = out / (f"{page.parent.name}-{page.stem}.png" if run_page else f"{page.stem}.png")
    shot.write_bytes(visit.screenshot)
    return {"page": str(page), "kind": kind(page), "screenshot": str(shot), "checks": list(checks), "failed": failed}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default="data", help="the lake")
    p.add_argument("--run-id", action="append", help="a run whose pages to check (default: every run)")
    p.add_argument("--out", default="docs/screenshots/pages", help="folder for the screenshots and pages.json")
    args = p.parse_args(argv)
    store, out = Store(args.data_dir), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    run_ids = args.run_id or sorted(d.name for d in (store.state / "runs").iterdir() if d.is_dir())
    with Browser() as browser:
        results = [check(browser, page, out) for page in pages(store, run_ids, out)]
    (out / "pages.json").write_text(json.dumps(results, indent=2) + "\n")
    for r in results:
        print(f"{'FAIL' if r['failed'] else 'ok  '} {r['page']} -> {r['screenshot']}")
        for problem in r["failed"]:
            print(f"       {problem}")
    print(f"{sum(not r['failed'] for r in results)} of {len(results)} pages passed; details in {out / 'pages.json'}")
    return 1 if any(r["failed"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
