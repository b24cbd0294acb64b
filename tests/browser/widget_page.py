"""Helpers for driving the citizen widget in a Playwright page."""
from __future__ import annotations

import contextlib
import functools
import http.server
import re
import threading
from collections.abc import Iterator
from typing import Any

TRACKING_RE = re.compile(r"[A-Z]{2}\d{8}-\d{4}")

SPEECH_SPY = """
window.__spoken = [];
if (!window.SpeechSynthesisUtterance) { window.SpeechSynthesisUtterance = function (t) { this.text = t; }; }
if (!window.speechSynthesis) { window.speechSynthesis = { speak: function () {}, cancel: function () {} }; }
window.speechSynthesis.speak = function (u) { window.__spoken.push(u.text); };
window.speechSynthesis.cancel = function () {};
"""

NO_RECOGNITION = """
Object.defineProperty(window, 'SpeechRecognition', { value: undefined, configurable: true });
Object.defineProperty(window, 'webkitSpeechRecognition', { value: undefined, configurable: true });
"""

# Computed text sizes, line heights, contrast (WCAG formula) and tap target sizes of what is visible.
MEASURE = """
() => {
  function rgb(s) { const m = s && s.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(',').map(Number); return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 }; }
  function bg(el) { while (el) { const c = rgb(getComputedStyle(el).backgroundColor); if (c && c.a > 0.99) return c;
    el = el.parentElement; } return { r: 255, g: 255, b: 255, a: 1 }; }
  function lum(c) { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); }
  function ratio(a, b) { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); }
  function visible(el) { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0 &&
    getComputedStyle(el).visibility !== 'hidden'; }
  const texts = [];
  document.querySelectorAll('#zw-app *').forEach(el => {
    if (!visible(el)) return;
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) return;
    const cs = getComputedStyle(el);
    texts.push({ tag: el.tagName, cls: String(el.className), text: el.textContent.trim().slice(0, 24),
      size: parseFloat(cs.fontSize), line: cs.lineHeight === 'normal' ? 0 : parseFloat(cs.lineHeight),
      contrast: ratio(rgb(cs.color), bg(el)) });
  });
  const controls = '#zw-app button, #zw-app input:not([type=file]), #zw-app textarea, #zw-app a';
  const targets = [...document.querySelectorAll(controls)].filter(visible).map(el => {
    const r = el.getBoundingClientRect();
    return { id: el.id, text: (el.textContent || el.placeholder || '').trim().slice(0, 12), w: r.width, h: r.height };
  });
  const b = getComputedStyle(document.body);
  return { texts, targets, body: { size: parseFloat(b.fontSize), line: parseFloat(b.lineHeight) } };
}
"""


def open_widget(context: Any, base_url: str, *, init_scripts: tuple[str, ...] = ()) -> Any:
    page = context.new_page()
    for script in init_scripts:
        page.add_init_script(script)
    page.goto(f"{base_url}/widget")
    wait_ready(page)
    return page


def wait_ready(page: Any) -> None:
    page.wait_for_function("() => window.ZW && ZW.chat && ZW.chat.ready()")  # a function: works under CSP


def hand_off(page: Any) -> str:
    """Press 转人工 and return the case tracking number the widget shows."""
    page.click("#zw-handoff")
    bubble = page.locator(".zw-from-system .zw-bubble", has_text="受理编号").last
    bubble.wait_for()
    m = TRACKING_RE.search(bubble.inner_text())
    assert m, bubble.inner_text()
    return m.group(0)


def rendered(page: Any) -> list[dict[str, Any]]:
    """Conversation messages in DOM order, with their ids and texts (not the local welcome card)."""
    return page.evaluate("""() => [...document.querySelectorAll('#zw-log .zw-msg:not(.zw-welcome)')].map(n => ({
        id: n.dataset.id ? Number(n.dataset.id) : null, cls: n.className,
        text: n.querySelector('.zw-bubble').innerText }))""")


@contextlib.contextmanager
def host_page(directory, desk_url: str) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A page of another site that embeds the widget with embed.js; yields its URL.

    A real server on another origin (localhost, other port): Chromium's local-network rules
    treat intercepted pages as public and would block the loopback desk.
    """
    (directory / "index.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>示例市政务服务网</title></head><body>"
        "<h1>示例市政务服务网</h1>"
        f"<script src='{desk_url}/static/widget/embed.js' data-desk-url='{desk_url}'></script>"
        "</body></html>", encoding="utf-8")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://localhost:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()
