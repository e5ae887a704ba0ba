"""The web page in a real browser: what only a browser shows (chips, the highlighted sentence, uploads).

Starts `meeting-qa serve` with the real default model on a temp store holding the sample meeting and
drives Debian's chromium through playwright. Screenshots go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REAL_CACHE, ROOT, free_port, stop_process

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "tests" / "artifacts"
WAIT_MS = 90_000  # answers wait behind model work on a busy 2-core machine
XSS = '<script>window.__pwned=1;alert(1)</script> <img src=x onerror="window.__pwned=1;alert(1)">'


def _cli() -> str:
    here = Path(sys.executable).with_name("meeting-qa")
    return str(here if here.exists() else ROOT / ".venv" / "bin" / "meeting-qa")


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"meeting-qa serve exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(1)
    pytest.fail(f"meeting-qa serve did not come up in {timeout_s:.0f}s:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (run `make browser-deps`)")
    if not (REAL_CACHE / "models").exists():
        pytest.skip(f"the default model is not prepared in {REAL_CACHE} (run `make model`)")
    tmp = tmp_path_factory.mktemp("browser")
    store, feedback, log = tmp / "store", tmp / "feedback.jsonl", tmp / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEETING_QA_")}
    env |= {"MEETING_QA_CACHE": str(REAL_CACHE), "MEETING_QA_FEEDBACK": str(feedback), "HF_HUB_OFFLINE": "1"}
    samples = sorted(str(p) for p in (ROOT / "ingest").glob("*.txt"))
    subprocess.run([_cli(), "ingest", "--store", str(store), *samples], env=env, check=True, capture_output=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [_cli(), "serve", "--port", str(port), "--store", str(store)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_up(url, proc, log)
        yield {"url": url, "feedback": feedback, "tmp": tmp}
    finally:
        stop_process(proc)


@pytest.fixture(scope="module")
def browser(server: dict[str, Any]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, server: dict[str, Any]) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:  # an alert() would mean markup in a record ran as code
        dialogs.append(dialog.message)
        dialog.dismiss()

    pg.on("dialog", on_dialog)
    pg.dialogs = dialogs
    pg.goto(server["url"])
    pg.wait_for_selector("#mqa-input textarea", timeout=WAIT_MS)
    pg.locator("#mqa-status", has_text="场会议").wait_for(timeout=WAIT_MS)  # the meetings list has loaded
    yield pg
    context.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def ask(page: Any, question: str) -> Any:
    """Type a question, press Enter and wait for the finished answer (the last bot message)."""
    before = page.locator("#mqa-chat .mqa-answer, #mqa-chat .mqa-notice").count()
    page.fill("#mqa-input textarea", question)
    page.keyboard.press("Enter")
    answers = page.locator("#mqa-chat .mqa-answer, #mqa-chat .mqa-notice")
    page.wait_for_function(
        "n => document.querySelectorAll('#mqa-chat .mqa-answer, #mqa-chat .mqa-notice').length > n",
        arg=before,
        timeout=WAIT_MS,
    )
    return answers.last


def test_the_answer_cites_with_a_chip_that_opens_the_paragraph_with_the_sentence_highlighted(page: Any) -> None:
    shot(page, "0-start")
    answer = ask(page, "谁主持了会议？")
    assert "徐" in answer.inner_text()
    chip = answer.locator(".mqa-cite", has_text="[1]")
    assert chip.count() == 1
    shot(page, "1-answer")

    chip.click()
    mark = page.locator("#mqa-evidence mark")
    mark.wait_for(timeout=WAIT_MS)
    assert "徐纓" in mark.inner_text()
    evidence = page.locator("#mqa-evidence").inner_text()
    assert "¶1" in evidence and "2022-05-06" in evidence
    assert "[1]" in page.locator("#mqa-sources").inner_text()
    assert "徐" in page.locator("#mqa-copy textarea").input_value()
    shot(page, "2-evidence")


def test_an_uploaded_file_is_listed_and_its_markup_shows_as_text(page: Any, server: dict[str, Any]) -> None:
    upload = server["tmp"] / "markup-test-2024-01-02.txt"
    upload.write_text(f"主持人张伟宣布：{XSS} 会议开始。\n\n会议决定把 **预算** 提高 $5$ 成。\n", encoding="utf-8")
    page.get_by_role("tab", name="会议 · Meetings").click()
    page.set_input_files("#mqa-upload input[type=file]", str(upload))
    page.locator("#mqa-ingest-result .mqa-file-ok").wait_for(timeout=WAIT_MS)
    assert "markup-test-2024-01-02" in page.locator("#mqa-ingest-result").inner_text()
    page.locator("#mqa-meetings", has_text="markup-test-2024-01-02").wait_for(timeout=WAIT_MS)
    shot(page, "3-uploaded")

    answer = ask(page, f"张伟宣布了什么？{XSS}")
    answer.locator(".mqa-cite").first.click()
    page.locator("#mqa-evidence mark").wait_for(timeout=WAIT_MS)
    evidence = page.locator("#mqa-evidence").inner_text()
    assert "<script>" in evidence or "**预算**" in evidence  # the record's markup, shown as characters
    question = page.locator("#mqa-chat [data-testid='user']").last.inner_text()
    assert "<script>window.__pwned=1;alert(1)</script>" in question
    assert page.locator("#mqa-chat img[src='x'], #mqa-evidence img").count() == 0
    assert page.evaluate("window.__pwned") is None and page.dialogs == []
    shot(page, "4-markup-as-text")


def test_a_question_the_records_do_not_cover_says_so_and_offers_related_passages(page: Any) -> None:
    answer = ask(page, "What is the capital of France?")
    assert "Not in the records" in answer.inner_text()
    related = answer.locator(".mqa-cite")
    assert related.count() >= 1
    related.first.click()
    page.locator("#mqa-evidence .mqa-ev-text").wait_for(timeout=WAIT_MS)
    shot(page, "5-not-in-records")


def test_an_example_question_is_asked_in_one_click_and_a_thumbs_up_with_a_comment_is_saved(
    page: Any, server: dict[str, Any]
) -> None:
    page.locator("#mqa-examples").get_by_text("会议研究通过了什么方案？").click()
    page.locator("#mqa-chat .mqa-answer").wait_for(timeout=WAIT_MS)
    assert "5·18" in page.locator("#mqa-chat .mqa-answer").last.inner_text()
    page.fill("#mqa-comment textarea, #mqa-comment input", "很准确")
    page.click("#mqa-up")
    page.locator("#mqa-feedback-status", has_text="已记录").wait_for(timeout=WAIT_MS)
    records = [json.loads(x) for x in Path(server["feedback"]).read_text(encoding="utf-8").splitlines()]
    assert records[-1]["rating"] == "up" and records[-1]["comment"] == "很准确"
    assert records[-1]["question"] == "会议研究通过了什么方案？"
    shot(page, "6-feedback")


def test_a_meeting_is_deleted_only_after_confirmation(page: Any, server: dict[str, Any]) -> None:
    doomed = server["tmp"] / "old-minutes-2023-03-04.txt"
    doomed.write_text("会议由王芳主持。\n", encoding="utf-8")
    page.get_by_role("tab", name="会议 · Meetings").click()
    page.set_input_files("#mqa-upload input[type=file]", str(doomed))
    table = page.locator("#mqa-meetings")
    table.filter(has_text="old-minutes-2023-03-04").wait_for(timeout=WAIT_MS)

    page.get_by_text("删除会议 · Delete a meeting").click()
    page.locator("#mqa-delete input").click()
    page.get_by_role("option", name="old minutes · 2023-03-04").click()
    page.get_by_role("button", name="删除 Delete", exact=True).click()
    page.get_by_text("确定删除「old minutes · 2023-03-04」吗？").wait_for(timeout=WAIT_MS)
    assert "old-minutes-2023-03-04" in table.inner_text()  # nothing happens before confirming
    shot(page, "7-confirm-delete")
    page.locator("#mqa-confirm").click()
    page.wait_for_function(
        "() => !document.querySelector('#mqa-meetings').innerText.includes('old-minutes-2023-03-04')",
        timeout=WAIT_MS,
    )
    assert "yancheng-party-committee-2022-05-06" in table.inner_text()


def test_the_decisions_tab_filters_items_opens_their_evidence_and_exports_csv(page: Any) -> None:
    page.get_by_role("tab", name="决定与任务 · Decisions & tasks").click()
    table = page.locator("#mqa-items-table")
    cells = table.locator("[role=gridcell]")  # the visible grid (the table's <td>s only size its columns)
    cells.filter(has_text="5·18").first.wait_for(timeout=WAIT_MS)
    assert "貫徹落實打算" in table.inner_text()  # both approved plans of the sample are listed
    shot(page, "8-items")

    page.fill("#mqa-items-topic textarea, #mqa-items-topic input", "经贸")  # simplified finds the traditional record
    page.click("#mqa-items-apply")
    page.wait_for_function(
        "() => !document.querySelector('#mqa-items-table').innerText.includes('貫徹落實打算')", timeout=WAIT_MS
    )
    page.locator("#mqa-items-status", has_text="1 item").wait_for(timeout=WAIT_MS)

    with page.expect_download(timeout=WAIT_MS) as download:
        page.click("#mqa-items-export")
    exported = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert exported.splitlines()[0].startswith("date,meeting_id,paragraph,kind")
    assert "“5·18”經貿活動總體工作方案" in exported and "貫徹落實打算" not in exported

    cells.filter(has_text="5·18").first.click()
    mark = page.locator("#mqa-evidence mark")
    mark.wait_for(timeout=WAIT_MS)
    assert "研究通過了今年“5·18”經貿活動總體工作方案" in mark.inner_text()
    assert "¶9" in page.locator("#mqa-evidence").inner_text()
    shot(page, "9-item-evidence")


def test_a_three_turn_conversation_shows_what_each_follow_up_carried_over_and_new_topic_starts_over(
    page: Any,
) -> None:
    first = ask(page, "会议研究通过了什么方案？")
    assert "接上题" not in first.inner_text()
    second = ask(page, "谁主持的？")  # no topic of its own: the meeting of the answer before
    assert "接上题" in second.inner_text() and "2022-05-06" in second.inner_text()
    assert "徐" in second.inner_text()
    third = ask(page, "那疫情防控有什么要求？")  # an ellipsis: still that meeting
    assert "接上题" in third.inner_text()
    assert third.locator(".mqa-cite").count() >= 1
    shot(page, "conversation-3-turns")

    page.click("#mqa-new-topic")
    page.locator("#mqa-chat .mqa-new-topic").wait_for(timeout=WAIT_MS)
    fresh = ask(page, "谁主持的？")
    assert "接上题" not in fresh.inner_text()
    shot(page, "conversation-new-topic")
