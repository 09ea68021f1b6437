"""End to end in a real browser: Debian's Chromium driven by Playwright against the ASGI server and a
real worker. Sign in, describe a party, watch the agents change state live, see the finished plan.

Saves a screenshot of the finished page to var/screenshots/live-page.png (see the README).
"""

import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings

from agents.faults import fault_clear, fault_set
from planning.models import Plan, PlanEvent
from tests.conftest import user_create

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]  # fmt: skip
SCREENSHOT = Path(settings.BASE_DIR) / "var" / "screenshots" / "live-page.png"

sync_api = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists():
    pytest.skip("Chromium is not installed (.ci/run installs Debian's chromium)", allow_module_level=True)


@pytest.fixture
def browser(monkeypatch):
    # Playwright's sync API keeps an event loop on this thread; the test's own ORM calls are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


def test_sign_in_plan_a_party_and_watch_it_finish_live(asgi_server, catalog, worker, browser):
    user_create("party-host")
    # The venue agent fails (slowly) until the page shows it retrying; then its next attempt succeeds.
    fault_set("venue", error_rate=1.0, latency_ms=1500)
    page = browser.new_page(viewport={"width": 390, "height": 1400})  # a phone-sized screen
    seen_states: list[str] = []
    page.expose_function("recordState", lambda state: seen_states.append(state))

    page.goto(f"http://{asgi_server}/")
    page.get_by_label("Username").fill("party-host")
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label(re.compile("In your own words")).fill(
        "Birthday party for 25 kids in Austin, superhero theme, budget $1200, one guest is gluten-free"
    )
    page.get_by_role("button", name="Plan it").click()
    page.wait_for_url(re.compile(r"/app/plans/[0-9a-f-]+/$"))
    page.evaluate(
        """() => new MutationObserver(() => {
               const venue = document.querySelector('[data-agent="venue"] .badge');
               if (venue) window.recordState(venue.dataset.state);
           }).observe(document.getElementById('agents'), {subtree: true, attributes: true, childList: true})"""
    )

    for _ in range(300):  # the retrying state may last only a moment: watch the recorded states
        if "retrying" in seen_states:
            break
        page.wait_for_timeout(100)
    fault_clear("venue")
    final = page.locator("#final-plan")
    final.wait_for(timeout=60_000)
    plan = Plan.objects.get(owner__username="party-host")
    assert plan.status == "complete", list(PlanEvent.objects.filter(plan=plan).values_list("type", "agent", "payload"))
    assert final.get_attribute("data-status") == "complete"
    states = [state for i, state in enumerate(seen_states) if i == 0 or seen_states[i - 1] != state]
    assert states[-3:] in (["retrying", "running", "done"], ["running", "retrying", "done"]), seen_states
    assert "running" in states and states.index("running") < states.index("retrying"), seen_states
    for agent in ("theme", "venue", "cake", "budget"):
        assert page.locator(f'[data-agent="{agent}"] .badge').inner_text() == "done"
    assert page.get_by_role("heading", name="Venue").is_visible()
    assert page.locator(".pick").first.inner_text() == plan.result["venue"]["name"]
    assert page.locator(".bars li").count() >= 4
    assert page.get_by_role("heading", name="Recommendations").is_visible()
    assert page.locator("#events li").count() == PlanEvent.objects.filter(plan=plan).count()
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    page.get_by_role("link", name="Your plans").click()
    assert page.locator(".plans li").count() == 1 and "complete" in page.locator(".plans li").inner_text()
