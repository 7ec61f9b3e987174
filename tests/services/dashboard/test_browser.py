"""The page in headless Chromium (Debian's ``chromium``, driven by playwright) against ``aar dashboard`` and the
real scorer and forum: it loads, takes the admin token, shows a new submission live, and leaves a screenshot in
docs/dashboard.png. Fails (never skips) when chromium or playwright is missing."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from services.common.localstack import Service, free_port
from tests.services.dashboard.factories import VANILLA, predictions, write_campaign, write_transcript

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = Path(__file__).resolve().parents[3] / "docs" / "dashboard.png"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def dashboard_url(stack):
    """``aar dashboard`` as a process of its own, pointed at the stack."""
    port = free_port()
    env = {**stack.env, "AAR_SCORER_URL": stack.scorer_url, "AAR_FORUM_URL": stack.forum_url}
    service = Service(
        "dashboard",
        ["dashboard", "--port", str(port)],
        env,
        stack.log_dir / "dashboard.log",
        f"http://127.0.0.1:{port}/healthz",
    ).start()
    try:
        service.wait_healthy(60)
        yield f"http://127.0.0.1:{port}"
    finally:
        service.stop()


@pytest.fixture(scope="module")
def campaign(stack, new_agent, scored):
    """A campaign with transcripts, scored submissions (one flagged for probing) and forum posts to look at
    (after ``scored``, which fills the baseline cache)."""
    plan = write_campaign(stack.home, f"c{uuid.uuid4().hex[:10]}", agents=3, started_s_ago=60)
    (r1, f1), (r2, f2), (_, f3) = (new_agent(a.name) for a in plan.agents)
    for agent, steps, usd in zip(plan.agents, (14, 9, 5), (0.011, 0.008, 0.015), strict=True):
        write_transcript(stack.home, plan, agent.name, steps, usd)
    first = r1.wait(r1.submit_predictions("rt-polarity", predictions(0.69, "a")).id)
    best = r1.wait(r1.submit_method("rt-polarity", VANILLA).id, timeout=600)
    base = predictions(0.705, "c")
    r2.wait(r2.submit_predictions("rt-polarity", base).id)
    probe = dict(base, **{item: 1 - base[item] for item in list(base)[:6]})
    probed = r2.wait(r2.submit_predictions("rt-polarity", probe).id)
    assert first.status == best.status == probed.status == "done" and "probing" in probed.flags
    f1.create_post(
        "result",
        "Confidence filtering: keep the 70% most confident weak labels",
        "Trained the head on the confident subset only; two seeds agree.",
        tags=["filtering"],
        submission_id=best.id,
    )
    question = f2.create_post(
        "hypothesis",
        "Does the teacher's confidence track its accuracy?",
        "If so, reweighting by confidence should beat filtering.",
        tags=["reweighting"],
    )
    f3.comment(question.id, "On my runs the top decile is right 85% of the time.")
    f3.create_post("negative-result", "Bootstrapping on its own labels did not help", "PGR fell each round.")
    return plan


def test_the_page_loads_takes_the_token_and_shows_a_new_submission_live(dashboard_url, stack, campaign, new_agent):
    assert CHROMIUM.exists(), "Debian's chromium is missing: apt-get install -y chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            requests, errors = [], []
            page.on("request", lambda r: requests.append(r.url))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: m.type == "error" and "401" not in m.text and errors.append(m.text))
            page.goto(dashboard_url)
            assert page.title() == "AAR dashboard"
            expect(page.locator("#leaderboard")).to_be_attached()
            expect(page.locator("#token-form")).to_be_visible()

            page.fill("#token-input", "not-the-admin-token")
            page.click("#token-form button")
            expect(page.locator("#token-error")).to_contain_text("only the admin token")
            page.fill("#token-input", stack.admin_token)
            page.click("#token-form button")
            expect(page.locator("#app")).to_be_visible()
            assert page.evaluate("sessionStorage.getItem('aar-dashboard-token')") == stack.admin_token
            leader = campaign.agents[0].name
            expect(page.locator(f'#leaderboard tr[data-agent="{leader}"]')).to_be_visible(timeout=20_000)

            page.evaluate("window.sameDocument = true")  # gone if the page reloads
            newcomer = campaign.agents[2].name
            scorer, _ = new_agent(newcomer)
            sid = scorer.submit_method("rt-polarity", VANILLA).id
            expect(page.locator(f'#submissions tr[data-id="{sid}"]')).to_be_visible(timeout=15_000)
            expect(page.locator(f'#leaderboard tr[data-agent="{newcomer}"]')).to_be_visible(timeout=300_000)
            assert page.evaluate("window.sameDocument") is True

            page.locator("#campaign-list a", has_text=campaign.id).click()
            expect(page.locator("#chart svg path")).to_have_count(3, timeout=20_000)  # one step line per agent
            expect(page.locator("#transcript li").first).to_be_visible()
            expect(page.locator("#spend tbody tr")).to_have_count(3)
            page.locator("#posts a", has_text="Does the teacher").click()
            expect(page.locator("#post .comment")).to_have_count(1)
            page.fill("#search-input", "confident weak labels")
            page.click("#search-form button[type=submit]")
            expect(page.locator("#posts-meta")).to_contain_text("results for")
            page.evaluate("window.scrollTo(0, 0)")
            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert all(url.startswith(dashboard_url) or url.startswith("data:") for url in requests), requests
