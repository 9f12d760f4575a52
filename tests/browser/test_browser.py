#!/usr/bin/env python3
"""The web UI in a real browser: Debian's chromium driven by chromedriver through selenium.

Usage: test_browser.py SLAWATCH SCREENSHOT_DIR

One daemon (base interval 1s, a bearer token) fed known data through /api/v1/ingest: api/blue
and web good, api/green bad (30 % errors), and gate answers with a hostile User-Agent; and
through remote write (loopback) checkout, judged per value of route: /pay, /cart, a hostile
value and a 1000-byte one of markup and quotes, each with its own counts (and a 10 KB value the
source refuses). Its burn-rate alerts use factors unlike the usual 14.4 and 6
(a page at 0.1 over 1h, a ticket at 0.15 over 6h, a page at 50 over 1d). In the browser:
- / without the token is the login page; its form signs in (the cookie is HttpOnly,
  SameSite=Strict, Path=/, as `?token=` also sets it);
- the overview shows every series, worst first, with the verdicts, budgets left, burn rates,
  measured values (the p95 among them) and gate verdicts of /api/v1/status (read from the DOM);
  its burn rates over 1h, 6h and 1d equal status' and are marked fast/slow by the rules' own
  factors (worked out here from the rules written, not read back); checkout shows one row per
  route with that route's numbers, and each route has its own page (the range's requests as
  sent); the hostile route is shown as text (no script runs);
  the text filter and the budget order work by query parameters;
- clicking a service link opens its page; clicking a range shows that range;
- the gate page lists the decisions, the hostile caller shown as text (no script runs);
- the reports page links every stored month's report, which answers 200;
- unknown service / range are 404 / 400 pages; a 10 KB parameter is refused with a page;
- no console error and no request to any other host on any page;
- every page parses as strict HTML5 (html5lib), has lang, header/nav/main landmarks, a label
  for every form field and scoped table headers; the palette's text colours reach WCAG AA
  (4.5:1) on their backgrounds in light and dark.
Screenshots (light, dark, phone width) go to SCREENSHOT_DIR.
"""
import json
import math
import os
import re
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import rw_util  # noqa: E402
import serve_util  # noqa: E402
from serve_util import (FAILURES, check, Daemon, http, push_intervals,  # noqa: E402
                        wait_evaluated, wait_until)
from browser_util import By, chromium, html5lib  # noqa: E402

TOKEN = "br0wser-token"
RULES = serve_util.RULES.replace("""    window: 1h
alerts:""", """    window: 1h
  - name: latency-p95
    objective: p95 <= 50ms
    window: 1h
alerts:""")
RULES = RULES.replace("""  - name: web
""", """  - name: checkout
    by: [route]
    by_limit: 5
    sli:
      requests: {prometheus: 'http_requests_total{job="shop"}'}
      errors: {prometheus: 'http_requests_total{job="shop",code=~"5.."}'}
  - name: web
""")
# Burn-rate alerts on availability: (factor, long window, severity). Factors unlike the SRE
# workbook's 14.4 and 6, so marks that ignored the rules would differ.
BURN_ALERTS = [(0.1, "1h", "critical"), (0.15, "6h", "warning"), (50, "1d", "critical")]
RULES = RULES.replace("""rollback_triggers:""", "".join(f"""  - name: Burn{long}
    burn_rate: {factor}
    objective: availability
    long: {long}
    short: 1m
    severity: {severity}
""" for factor, long, severity in BURN_ALERTS) + """rollback_triggers:""")
GOOD = {"requests": 1000, "errors": 2, "latency_us": [5000, 20000, 30000, 40000]}
BAD = {"requests": 1000, "errors": 300, "latency_us": [5000, 20000, 60000, 90000]}
HOSTILE = "<script>document.title='pwned'</script>\"'&"
# A route value as long as the sources take (1000 bytes of markup and quotes), and one of
# 10 KB, which they refuse (values hold at most 1024 bytes).
LONG = ("\"'<b>&amp;" * 100)[:1000]
TOO_LONG = "<i>'\"" * 2100
# checkout's counters per route: (requests, errors) added in each of 3 intervals.
ROUTES = {"/pay": (101, 1), "/cart": (105, 5), HOSTILE: (100, 0), LONG: (120, 3)}



class Checker:
    """Opens pages and checks what every page must hold."""

    def __init__(self, driver, daemon, screens):
        self.driver, self.d, self.screens = driver, daemon, screens
        self.origin = f"127.0.0.1:{daemon.port}"

    def open(self, path, status=200):
        self.driver.get(self.d.url + path)
        self.after_load(path, status)

    def after_load(self, what, status=200):
        # The pages refresh themselves every 5 s here (base interval 1 s); a refresh in the
        # middle of reading the DOM would make the read fail, so the loaded page is held still.
        self.driver.execute_script("window.stop()")
        self.check_logs(what, status)
        self.check_html(what, self.driver.page_source)

    def check_logs(self, what, status=200):
        for entry in self.driver.get_log("browser"):
            # An error page's own status is logged as a failed load: that one is expected.
            expected = (status != 200 and entry["source"] == "network"
                        and f"status of {status} " in entry["message"])
            check(entry["level"] not in ("SEVERE", "ERROR") or expected,
                  f"{what}: console: {entry}")
        for entry in self.driver.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg.get("method") != "Network.requestWillBeSent":
                continue
            url = msg["params"]["request"]["url"]
            u = urllib.parse.urlsplit(url)
            # chrome: URLs are the browser's own pages (its blank first tab), not the network.
            check(u.scheme in ("data", "about", "chrome") or u.netloc == self.origin,
                  f"{what}: a request to another host: {url}")

    def check_html(self, what, _source):
        # The served bytes, not the DOM serialised back: what a validator would get.
        status, _, body = http("GET", self.driver.current_url,
                               headers={"Cookie": "slawatch_token=" + TOKEN.encode().hex()})
        parser = html5lib.HTMLParser(strict=True)
        try:
            parser.parse(body)
        except html5lib.html5parser.ParseError as e:
            check(False, f"{what}: not strict HTML5: {e}")
        page = self.driver
        check(page.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en",
              f"{what}: <html lang> missing")
        for tag in ("header", "nav", "main"):
            check(len(page.find_elements(By.TAG_NAME, tag)) >= 1, f"{what}: no <{tag}> landmark")
        for field in page.find_elements(By.CSS_SELECTOR, "input:not([type=hidden]), select"):
            fid = field.get_attribute("id")
            labels = page.find_elements(By.CSS_SELECTOR, f"label[for='{fid}']") if fid else []
            check(len(labels) == 1, f"{what}: form field {field.get_attribute('name')} "
                  "has no label")
        for th in page.find_elements(By.CSS_SELECTOR, "thead th"):
            check(th.get_attribute("scope") == "col", f"{what}: a column header without scope")

    def shot(self, name):
        self.driver.save_screenshot(os.path.join(self.screens, f"{name}.png"))

    def dom(self, script):
        return self.driver.execute_script(script)


OVERVIEW_DOM = """
return Array.from(document.querySelectorAll('#overview tbody tr.series')).map(function(tr){
  return {name: tr.querySelector('th a').textContent, env: tr.querySelector('td.env').textContent,
          gate: tr.querySelector('td.gatecell .gate').textContent,
          objectives: Array.from(tr.querySelectorAll('ul.objs li')).map(function(li){
            return {name: li.querySelector('strong').textContent,
                    verdict: li.querySelector('.verdict').textContent,
                    measured: li.querySelector('.measured').textContent,
                    budget: li.querySelector('.budget').textContent,
                    burns: Array.from(li.querySelectorAll('.burn')).map(function(b){
                      return {w: b.dataset.window, cls: b.className, text: b.textContent};})};
          })};});
"""
WINDOWS_H = {"1h": 1, "6h": 6, "1d": 24}


def burn_mark(objective, window, burn):
    """The class and word a burn rate must carry (docs/ui.md): the objective's alerts over the
    window (else the nearest window one watches), critical: fast, others: slow."""
    alerts = [a for a in BURN_ALERTS if objective == "availability"]
    if not alerts:
        return "ok", ""
    nearest = min(alerts, key=lambda a: abs(WINDOWS_H[a[1]] - WINDOWS_H[window]))[1]
    page = [f for f, w, sev in alerts if w == nearest and sev == "critical"]
    ticket = [f for f, w, sev in alerts if w == nearest and sev != "critical"]
    if page and burn >= min(page):
        return "bad", "fast"
    if ticket and burn >= min(ticket):
        return "warn", "slow"
    return "ok", ""


def shown_name(s):
    labels = s.get("labels", {})
    return s["name"] + "".join(f" {k}={v}" for k, v in labels.items())


def percent(v):
    """A fraction as the UI promises it: a percentage with at most 3 decimals."""
    t = f"{v * 100:.3f}".rstrip("0").rstrip(".")
    return t + "%"


def expected_measured(o):
    v = o["measured"]
    if v is None:
        return "—"
    if o["sli"] in ("availability", "error_rate", "health_success", "throughput"):
        return percent(v)
    if re.fullmatch(r"p[0-9.]+", o["sli"]):
        return f"{v / 1000:.4g} ms"
    return f"{v:.0f}"


def expected_row(s):
    objs = []
    for o in s["objectives"]:
        verdict = {True: "✔ met", False: "✖ missed", None: "○ no verdict"}[o["met"]]
        b = o["budget_remaining"]
        burns = []
        for w in WINDOWS_H:
            burn = o["burn_rate_" + w]
            cls, word = ("muted", "") if burn is None else burn_mark(o["name"], w, burn)
            burns.append({"w": w, "value": None if burn is None else f"{burn:.2f}×",
                          "cls": cls, "word": word})
        objs.append({"name": o["name"], "verdict": verdict, "measured": expected_measured(o),
                     "budget": "no budget yet" if b is None else f"{b * 100:.1f}%",
                     "burns": burns})
    return {"name": shown_name(s), "env": s.get("env", "—"), "objectives": objs,
            "gate": s["gate"]["verdict"]}


def worst_key(s):
    missed = sum(1 for o in s["objectives"] if o["met"] is False)
    firing = sum(1 for a in s["alerts"] if a["state"] == "firing")
    budgets = [o["budget_remaining"] for o in s["objectives"] if o["budget_remaining"] is not None]
    value = "".join(s.get("labels", {}).values()).encode()  # the page sorts by bytes
    return (-missed, -firing, min(budgets) if budgets else float("inf"), s["name"].encode(),
            value, s.get("env", "").encode())


def compare_overview(c):
    """The overview's DOM against /api/v1/status, for one evaluation (retried across ticks)."""
    last = {}

    def same():
        c.driver.refresh()
        rows = c.dom(OVERVIEW_DOM)
        _, doc = c.d.get_json("/api/v1/status")
        want = [expected_row(s) for s in sorted(doc["services"], key=worst_key)]
        got = []
        for r in rows:
            for o in r["objectives"]:
                o["burns"] = [{"w": b["w"],
                               "value": (re.search(r"[0-9.]+×", b["text"]) or [None])[0],
                               "cls": b["cls"].split()[-1],
                               "word": "fast" if "▲ fast" in b["text"]
                               else "slow" if "▲ slow" in b["text"] else ""}
                              for b in o["burns"]]
            r["gate"] = r["gate"].split(" ", 1)[1]
            got.append(r)
        last.update(got=got, want=want)
        return got == want
    try:
        wait_until("the overview to equal /api/v1/status", same, timeout=15, step=0.5)
    except TimeoutError:
        check(False, f"overview DOM {json.dumps(last.get('got'), ensure_ascii=False)}\n"
              f"!= status {json.dumps(last.get('want'), ensure_ascii=False)}")
    return last.get("got", [])


def test_login(c):
    c.driver.get(c.d.url + "/")
    check("Sign in" in c.driver.title, f"without the token / is not the login page: "
          f"{c.driver.title!r}")
    c.after_load("login page", 401)
    c.driver.find_element(By.ID, "token").send_keys(TOKEN)
    c.driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_until("the overview after signing in",
               lambda: c.driver.find_elements(By.ID, "overview"), timeout=10)
    cookie = c.driver.get_cookie("slawatch_token")
    check(cookie is not None and cookie.get("httpOnly") and cookie.get("sameSite") == "Strict"
          and cookie.get("path") == "/", f"the login cookie: {cookie}")
    # ?token= sets the same cookie and sends the browser on without the token in the address.
    status, headers, _ = http("GET", c.d.url + "/gate?token=" + TOKEN)
    setc = {k.lower(): v for k, v in headers.items()}.get("set-cookie", "")
    check(status == 200 and "HttpOnly" in setc and "SameSite=Strict" in setc
          and "Path=/" in setc, f"?token=: HTTP {status} Set-Cookie {setc!r}")
    status, _, _ = http("GET", c.d.url + "/gate?token=wrong")
    check(status == 401, f"?token=wrong: HTTP {status}, want 401")


def test_overview(c):
    c.open("/")
    # Base interval 1 s: the page refreshes at the 5 s floor (after_load holds it still).
    refresh = c.dom("var m = document.querySelector('meta[http-equiv=refresh]');"
                    "return m && m.content;")
    check(refresh == "5", f"the overview's refresh: {refresh!r}, want '5'")
    rows = compare_overview(c)
    check(len(rows) == 7, f"overview rows: {len(rows)}, want 7 series")
    check(rows and rows[0]["name"] == "api" and rows[0]["env"] == "green",
          f"the bad series is not first: {rows[:1]}")
    check_burn_marks(rows)
    check_routes(c, rows)
    c.shot("overview-light")
    c.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
        "features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    c.shot("overview-dark")
    c.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
    c.driver.set_window_size(390, 844)
    c.driver.refresh()
    overflow = c.dom("return document.documentElement.scrollWidth - window.innerWidth;")
    check(overflow <= 0, f"at phone width the page scrolls sideways by {overflow}px")
    c.shot("overview-phone")
    c.driver.set_window_size(1280, 1000)
    # Filter and order are query parameters (no script needed).
    c.open("/?q=web&sort=name")
    names = [r["name"] for r in c.dom(OVERVIEW_DOM)]
    check(names == ["web"], f"filter q=web shows {names}")
    c.open("/?sort=budget")
    _, doc = c.d.get_json("/api/v1/status")
    shown = [(r["name"], r["env"]) for r in c.dom(OVERVIEW_DOM)]
    check(len(shown) == 7, f"sort=budget shows {shown}")
    c.open("/?q=" + urllib.parse.quote(HOSTILE))
    check(c.driver.find_element(By.ID, "q").get_attribute("value") == HOSTILE,
          "the hostile filter text is not shown back as typed")
    check(c.driver.title != "pwned", "a script in the filter ran")


def check_burn_marks(rows):
    """The rules' factors decide the marks: web's 1h burn (0.2 at 0.2 % errors) is fast only
    because the page factor here is 0.1 (at 14.4 it would be unmarked), its 6h burn slow at
    0.15, and api/green's 1d burn (30) unmarked below that window's 50."""
    def burns(name, env):
        r = [r for r in rows if r["name"] == name and r["env"] == env]
        o = [o for o in r[0]["objectives"] if o["name"] == "availability"] if r else []
        return {b["w"]: (b["cls"], b["word"]) for b in o[0]["burns"]} if o else {}
    web, green = burns("web", "—"), burns("api", "green")
    check(web == {"1h": ("bad", "fast"), "6h": ("warn", "slow"), "1d": ("ok", "")},
          f"web's burn marks {web}")
    check(green.get("1d") == ("ok", "") and green.get("1h") == ("bad", "fast"),
          f"api/green's burn marks {green}")


def route_truth(route):
    requests, errors = ROUTES[route]
    return 3 * requests, 3 * errors


def check_routes(c, rows):
    """checkout: a row per route, each with the budget left and 1h burn of its own counts
    (availability >= 99 %: 1 % of requests may fail)."""
    for route in ROUTES:
        requests, errors = route_truth(route)
        burn = errors / requests / 0.01
        want = [(f"{(1 - burn) * 100:.1f}%", f"{burn:.2f}×")]
        row = [r for r in rows if r["name"] == f"checkout route={route}"]
        got = [(o["budget"], o["burns"][0]["value"]) for o in row[0]["objectives"]
               if o["name"] == "availability"] if len(row) == 1 else []
        check(got == want, f"checkout route={route}: rows {len(row)}, budget and 1h burn {got}, "
              f"want {want}")
    check(c.driver.title != "pwned", "a script in a label value ran")
    texts = c.dom("return Array.from(document.querySelectorAll('#overview tbody th a'))"
                  ".map(function(a){return a.textContent;});")
    check(f"checkout route={HOSTILE}" in texts, f"the hostile route is not shown as text: {texts}")
    check(not any(TOO_LONG[:100] in t for t in texts), "a 10 KB route value was admitted")


def test_route_pages(c):
    """Each route's page: its title, and the range's requests and errors from the store."""
    for route in ROUTES:
        c.open("/")
        link = [a for a in c.driver.find_elements(By.CSS_SELECTOR, "#overview tbody th a")
                if a.text == f"checkout route={route}"]
        if not check(len(link) == 1, f"no link for route {route}"):
            continue
        link[0].click()
        wait_until(f"the page of route {route}",
                   lambda: c.driver.find_elements(By.ID, "range-requests"), timeout=10)
        c.after_load(f"checkout route={route}")
        check(c.driver.title != "pwned", "a script in a label value ran on its page")
        check(f"checkout route={route}" in c.driver.title, f"route page title {c.driver.title!r}")
        requests, errors = route_truth(route)
        got = (c.driver.find_element(By.ID, "range-requests").text,
               c.driver.find_element(By.ID, "range-errors").text)
        check(got == (str(requests), str(errors)),
              f"route {route}'s page: requests/errors {got}, want {requests}/{errors}")
        rows = c.dom(OVERVIEW_DOM)
        check([r["name"] for r in rows] == [f"checkout route={route}"],
              f"route {route}'s page shows now {[r['name'] for r in rows]}")
    c.shot("route-page")
    for path, want in (("/service?name=checkout", 400),
                       ("/service?name=checkout&route=/nope", 404)):
        status, _, body = http("GET", c.d.url + path,
                               headers={"Authorization": f"Bearer {TOKEN}"})
        check(status == want and b"<main" in body, f"{path}: HTTP {status}, want a {want} page")


def test_service(c):
    c.open("/")
    c.driver.find_element(By.CSS_SELECTOR, "#overview a[href*='env=green']").click()
    wait_until("the service page", lambda: "api · green" in c.driver.title, timeout=10)
    c.after_load("service page")
    c.driver.find_element(By.LINK_TEXT, "6 hours").click()
    wait_until("the 6 h range", lambda: "range=6h" in c.driver.current_url, timeout=10)
    c.after_load("service page 6h")
    current = c.driver.find_element(By.CSS_SELECTOR, "nav.ranges a[aria-current=page]").text
    check(current == "6 hours", f"the chosen range is marked {current!r}")
    # The range's figures: every environment together, from the merged histograms.
    got = {k: c.driver.find_element(By.ID, "range-" + k).text
           for k in ("requests", "errors", "p50", "p95", "p99")}
    want_req = 3 * (GOOD["requests"] + BAD["requests"])
    want_err = 3 * (GOOD["errors"] + BAD["errors"])
    check(got["requests"] == str(want_req) and got["errors"] == str(want_err),
          f"range requests/errors {got['requests']}/{got['errors']}, want {want_req}/{want_err}")
    values = sorted(3 * (GOOD["latency_us"] + BAD["latency_us"]))
    for p in (50, 95, 99):
        # HdrHistogram's rule: the smallest value with at least p % of the values at or below
        # it, reported as its bucket's highest equivalent value (3 significant digits).
        rank = max(1, -(-p * len(values) // 100))
        want_ms = values[rank - 1] / 1000
        shown = re.fullmatch(r"([0-9.]+) ms", got[f"p{p}"])
        check(shown is not None and abs(float(shown.group(1)) - want_ms) <= want_ms * 2e-3,
              f"range p{p} shows {got[f'p{p}']!r}, want {want_ms} ms within HDR's precision")
    charts = c.driver.find_elements(By.CSS_SELECTOR, "figure.chart svg")
    check(len(charts) == 5, f"the service page draws {len(charts)} charts, want 5")
    c.shot("service-6h")
    for path, want in (("/service?name=nope", 404), ("/service?name=api&env=green&range=2y", 400),
                       ("/service?name=api&env=purple", 404), ("/service?name=api", 404),
                       ("/service?name=api&env=green&range=custom&from=1970-01-01T00:00:00Z"
                        "&to=2100-01-01T00:00:00Z", 400),
                       ("/?q=" + "x" * 10240, 400)):
        status, headers, body = http("GET", c.d.url + path,
                                     headers={"Authorization": f"Bearer {TOKEN}"})
        ctype = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
        check(status == want and ctype.startswith("text/html") and b"<main" in body,
              f"{path[:60]}: HTTP {status} {ctype}, want a {want} page")
    c.open("/service?name=" + urllib.parse.quote(HOSTILE), 404)
    check(c.driver.title != "pwned" and HOSTILE in c.driver.find_element(By.TAG_NAME, "main").text,
          "an unknown hostile service name is not shown as text")


def test_gate(c):
    c.open("/gate")
    wait_until("the gate decisions", lambda: (c.driver.refresh() or True) and c.dom(
        "return document.querySelectorAll('table.decisions tbody tr').length;") >= 2,
        timeout=15, step=0.5)
    c.after_load("gate page")
    text = c.driver.find_element(By.TAG_NAME, "main").text
    check(HOSTILE in text, "the hostile caller is not shown as text on the gate page")
    check(c.driver.title != "pwned", "a script in the caller ran")
    verdicts = c.dom("return Array.from(document.querySelectorAll('table.decisions tbody tr'))"
                     ".map(function(r){return [r.querySelector('th a').textContent,"
                     "r.querySelector('td.env').textContent,"
                     "r.querySelector('.verdict').textContent];});")
    check(["api", "green", "✖ fail"] in verdicts and ["web", "—", "✔ pass"] in verdicts,
          f"gate decisions shown: {verdicts}")
    c.shot("gate")
    # A route's decision links to that route's page around it (the deployment's charts).
    links = [a.get_attribute("href") for a in
             c.driver.find_elements(By.CSS_SELECTOR, "table.decisions tbody th a")
             if a.text == "checkout route=/pay"]
    if check(len(links) >= 1, f"no gate decision of checkout route=/pay: {verdicts}"):
        c.driver.get(links[0])
        c.after_load("checkout route=/pay from the gate page")
        check("checkout route=/pay" in c.driver.title and "range=custom" in links[0],
              f"the decision's link opens {c.driver.title!r} ({links[0]})")
    c.open("/gate?service=web")
    services = c.dom("return Array.from(document.querySelectorAll('table.decisions tbody th a'))"
                     ".map(function(a){return a.textContent;});")
    check(services and set(services) == {"web"}, f"filtered by web: {services}")


def test_reports(c):
    c.open("/reports")
    links = [a.get_attribute("href") for a in
             c.driver.find_elements(By.CSS_SELECTOR, "#reports a[href*='format=html']")]
    check(len(links) >= 3, f"report links: {links}")
    c.shot("reports")
    for href in links[:3]:
        status, _, body = http("GET", href, headers={"Authorization": f"Bearer {TOKEN}"},
                               timeout=30)
        check(status == 200 and b"<html" in body.lower(), f"{href}: HTTP {status}")


def hex_to_rgb(h):
    h = h.lstrip("#")
    return [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]


def luminance(h):
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in hex_to_rgb(h)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a, b):
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_palette(d):
    status, _, css = http("GET", d.url + "/ui/slawatch.css")
    check(status == 200, f"/ui/slawatch.css: HTTP {status}")
    # The page's palette (the charts' own custom properties follow it in the same sheet).
    blocks = [b for b in re.findall(r":root\{([^}]*)\}", css.decode()) if "--bg:" in b]
    check(len(blocks) == 2, f"want a light and a dark palette, found {len(blocks)}")
    for scheme, block in zip(("light", "dark"), blocks):
        pal = dict(re.findall(r"--([a-z]+):(#[0-9a-f]{6})", block))
        for fg in ("fg", "muted", "link", "ok", "bad", "warn", "none"):
            for bg in ("bg", "head"):
                ratio = contrast(pal[fg], pal[bg])
                check(ratio >= 4.5, f"{scheme}: --{fg} on --{bg} contrast {ratio:.2f} < 4.5")


def write_routes(d, first, routes=ROUTES):
    """checkout's counters by remote write: each starts at 0 and grows by ROUTES' counts."""
    series = []
    for route, (requests, errors) in routes.items():
        for code, per in (("200", requests - errors), ("500", errors)):
            labels = [("__name__", "http_requests_total"), ("job", "shop"), ("route", route),
                      ("code", code)]
            series.append((labels, [(float(k * per), (first + k) * 1000 + 500)
                                    for k in range(4)]))
    status, _, body = d.post("/api/v1/write", rw_util.body(series), headers=rw_util.HEADERS)
    check(status == 204, f"remote write: HTTP {status} {body[:200]!r}")


def feed(d):
    # The counters' first samples (value 0) land in the interval the pushes start in.
    first = math.floor(time.time()) + 1
    write_routes(d, first)
    write_routes(d, first, {TOO_LONG: (100, 0)})  # its samples are refused, the others kept

    def batches(_k):
        return [dict(GOOD, service="api", env="blue"), dict(BAD, service="api", env="green"),
                dict(GOOD, service="web")]
    push_intervals(d, batches, 3)
    wait_evaluated(d, first + 5, "slawatch to evaluate past the remote writes")
    for q in ("service=api&env=green", "service=web", "service=checkout&route=/pay"):
        status, _, _ = http("GET", d.url + "/api/v1/gate?" + q, headers={"User-Agent": HOSTILE})
        check(status == 200, f"gate {q}: HTTP {status}")


def main():
    exe, screens = sys.argv[1], sys.argv[2]
    os.makedirs(screens, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        token_file = os.path.join(tmp, "token")
        with open(token_file, "w") as f:
            f.write(TOKEN + "\n")
        d = Daemon(exe, tmp, rules=RULES,
                   extra_config=f"auth:\n  token_file: {token_file}\n"
                   "remote_write_receiver:\n  enabled: true\n").start()
        d.token = TOKEN
        driver = None
        try:
            feed(d)
            test_palette(d)
            driver = chromium(os.path.join(tmp, "chromium", "profile"))
            c = Checker(driver, d, screens)
            test_login(c)
            test_overview(c)
            test_service(c)
            test_route_pages(c)
            test_gate(c)
            test_reports(c)
        finally:
            if driver is not None:
                driver.quit()
            rc = d.stop()
            check(rc == 0, f"slawatch serve exited {rc}")
    if FAILURES:
        print(f"{len(FAILURES)} failure(s); screenshots in {screens}", file=sys.stderr)
        sys.exit(1)
    print(f"ok; screenshots in {screens}")


if __name__ == "__main__":
    main()
