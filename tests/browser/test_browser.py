#!/usr/bin/env python3
"""The web UI in a real browser: Debian's chromium driven by chromedriver through selenium.

Usage: test_browser.py SLAWATCH SCREENSHOT_DIR

One daemon (base interval 1s, a bearer token) fed known data through /api/v1/ingest: api/blue
and web good, api/green bad (30 % errors), and gate answers with a hostile User-Agent. In the
browser:
- / without the token is the login page; its form signs in (the cookie is HttpOnly,
  SameSite=Strict, Path=/, as `?token=` also sets it);
- the overview shows every series, worst first, with the verdicts, budgets left, burn rates,
  measured values (the p95 among them) and gate verdicts of /api/v1/status (read from the DOM);
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
import os
import re
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import serve_util  # noqa: E402
from serve_util import FAILURES, check, Daemon, http, push_intervals, wait_until  # noqa: E402

try:
    import html5lib
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
except ImportError as e:  # a missing peer is a failure, never a skip
    print(f"FAIL: {e}: install python3-selenium and python3-html5lib", file=sys.stderr)
    sys.exit(1)

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
TOKEN = "br0wser-token"
RULES = serve_util.RULES.replace("""    window: 1h
alerts:""", """    window: 1h
  - name: latency-p95
    objective: p95 <= 50ms
    window: 1h
alerts:""")
GOOD = {"requests": 1000, "errors": 2, "latency_us": [5000, 20000, 30000, 40000]}
BAD = {"requests": 1000, "errors": 300, "latency_us": [5000, 20000, 60000, 90000]}
HOSTILE = "<script>document.title='pwned'</script>\"'&"


def browser(screens):
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            print(f"FAIL: {path} is missing: install chromium and chromium-driver",
                  file=sys.stderr)
            sys.exit(1)
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--no-first-run",
              "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--disable-extensions", "--window-size=1280,1000",
              f"--user-data-dir={os.path.join(screens, 'profile')}"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


class Checker:
    """Opens pages and checks what every page must hold."""

    def __init__(self, driver, daemon, screens):
        self.driver, self.d, self.screens = driver, daemon, screens
        self.origin = f"127.0.0.1:{daemon.port}"

    def open(self, path, status=200):
        self.driver.get(self.d.url + path)
        self.after_load(path, status)

    def after_load(self, what, status=200):
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
                    burn: li.querySelector('.burn').textContent};})};});
"""


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
        burn = o["burn_rate_1h"]
        objs.append({"name": o["name"], "verdict": verdict, "measured": expected_measured(o),
                     "budget": "no budget yet" if b is None else f"{b * 100:.1f}%",
                     "burn": None if burn is None else f"{burn:.2f}×"})
    return {"name": s["name"], "env": s.get("env", "—"), "objectives": objs,
            "gate": s["gate"]["verdict"]}


def worst_key(s):
    missed = sum(1 for o in s["objectives"] if o["met"] is False)
    firing = sum(1 for a in s["alerts"] if a["state"] == "firing")
    budgets = [o["budget_remaining"] for o in s["objectives"] if o["budget_remaining"] is not None]
    return (-missed, -firing, min(budgets) if budgets else float("inf"), s["name"],
            s.get("env", ""))


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
                o["burn"] = (re.search(r"[0-9.]+×", o["burn"]) or [None])[0]
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
    rows = compare_overview(c)
    check(len(rows) == 3, f"overview rows: {len(rows)}, want 3 series")
    check(rows and rows[0]["name"] == "api" and rows[0]["env"] == "green",
          f"the bad series is not first: {rows[:1]}")
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
    check(len(shown) == 3, f"sort=budget shows {shown}")
    c.open("/?q=" + urllib.parse.quote(HOSTILE))
    check(c.driver.find_element(By.ID, "q").get_attribute("value") == HOSTILE,
          "the hostile filter text is not shown back as typed")
    check(c.driver.title != "pwned", "a script in the filter ran")


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


def feed(d):
    def batches(_k):
        return [dict(GOOD, service="api", env="blue"), dict(BAD, service="api", env="green"),
                dict(GOOD, service="web")]
    push_intervals(d, batches, 3)
    for q in ("service=api&env=green", "service=web"):
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
                   extra_config=f"auth:\n  token_file: {token_file}\n").start()
        d.token = TOKEN
        driver = None
        try:
            feed(d)
            test_palette(d)
            driver = browser(os.path.join(tmp, "chromium"))
            c = Checker(driver, d, screens)
            test_login(c)
            test_overview(c)
            test_service(c)
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
