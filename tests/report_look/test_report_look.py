#!/usr/bin/env python3
"""The HTML report's look in a real browser, its PDF, and its portfolio from the web UI.

Usage: test_report_look.py SLAWATCH LOOK_MONTH RULES SCREENSHOT_DIR

The month look_month.c records (its header comment is the plan the expected values below are
worked out from, not the program's output): alpha's Oct 14 took 60 s a request, beta's Oct 7
lost half its requests and beta/green was deployed on Oct 14 13:00 with the gate answering
pass, fail, fail, pass; gamma had maintenance and 130 deployments; delta started on Oct 20; a late minute of 60 s
requests reached beta's Oct 3 after its day was rolled up.

The JSON report: beta's Oct 3 P99 includes the late minute (its day row is stale), Oct 4's
does not need it.

In Debian's chromium through chromedriver (selenium), the report opened as a file:
- no console error and no request other than the file itself;
- every chart has labelled axes: a unit and value ticks, and time ticks (the heatmap: day rows
  and hour columns);
- alpha's 60 s day is drawn at the latency chart's top edge with its marker, beta's 50 % day at
  the availability chart's bottom edge with its marker;
- beta's charts mark the deployment and the gate's decisions (the repeated fail not again),
  gamma's the maintenance window and its first 120 deployments, its page saying so;
- the portfolio lists every service once, worst budget first, each figure equal to the JSON
  report's, and sorts by a column when its heading is clicked;
- printed (print media), each service starts a page and every chart is a figure kept whole.
Then `--format pdf` gives a PDF with a page per service besides the first, leaves nothing in
TMPDIR, and without chromium on PATH fails in one line with exit status 2 and writes nothing;
a browser that hangs past --pdf-timeout is killed with its helper process, one that fails is
quoted in the one line.
The web UI's /reports page links the month's portfolio.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from serve_util import FAILURES, check, Daemon, http, wait_until  # noqa: E402
from browser_util import By, chromium, html5lib  # noqa: E402

SERVICES = ["alpha", "beta", "gamma", "delta"]
PLOT_TOP, PLOT_BOTTOM = 26.0, 178.0  # chart.h: a 200-high chart, pads 26 above and 22 below


def run(exe, *args, env=None):
    return subprocess.run([exe, *args], capture_output=True, env=env, timeout=300)



def check_logs(driver, page_url):
    for entry in driver.get_log("browser"):
        check(entry["level"] not in ("SEVERE", "ERROR"), f"console: {entry}")
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") != "Network.requestWillBeSent":
            continue
        url = msg["params"]["request"]["url"]
        scheme = urllib.parse.urlsplit(url).scheme
        check(url.split("#")[0] == page_url or scheme in ("data", "about", "chrome"),
              f"a request for something else than the report: {url}")


CHARTS_DOM = """
return Array.from(document.querySelectorAll('svg.sw-chart')).map(function(svg){
  var sec = svg.closest('section.service');
  function texts(sel){ return Array.from(svg.querySelectorAll(sel)).map(function(t){
    return t.textContent;}); }
  return {service: sec ? sec.querySelector('h2').textContent : null,
          cls: svg.getAttribute('class'),
          unit: texts('text.sw-unit'), yticks: texts('g.sw-y text.sw-tick'),
          xticks: texts('g.sw-x text.sw-tick'),
          rows: texts(':scope > text.sw-tick[text-anchor=end]'),
          cols: texts(':scope > text.sw-tick[text-anchor=middle]'),
          clips: Array.from(svg.querySelectorAll('path.sw-clip')).map(function(p){
            return {d: p.getAttribute('d'), title: p.querySelector('title').textContent};}),
          marks: Array.from(svg.querySelectorAll('g.sw-mark')).map(function(g){
            return {cls: g.getAttribute('class'), title: g.querySelector('title').textContent};}),
          ranges: Array.from(svg.querySelectorAll('rect.sw-range')).map(function(r){
            return r.querySelector('title').textContent;})};});
"""


def kind(chart):
    for k in ("availability", "latency", "budget", "heatmap"):
        if re.search(r"\b%s\b" % k, chart["cls"]):
            return k
    return None


def check_axes(charts):
    check(len(charts) == 4 * len(SERVICES),
          f"{len(charts)} charts, want 4 for each of {len(SERVICES)} services")
    for c in charts:
        what = f"{c['service']} {kind(c)} chart"
        if kind(c) == "heatmap":
            check(len(c["rows"]) >= 4 and "Oct 1" in c["rows"], f"{what}: day rows {c['rows']}")
            check(len(c["cols"]) >= 4 and "00" in c["cols"], f"{what}: hour columns {c['cols']}")
            continue
        want_unit = "ms" if kind(c) == "latency" else "%"
        check(c["unit"] == [want_unit], f"{what}: value axis unit {c['unit']}, want {want_unit}")
        check(len(c["yticks"]) >= 2 and all(re.fullmatch(r"-?[0-9.,]+", t) for t in c["yticks"]),
              f"{what}: value ticks {c['yticks']}")
        check("Oct 1" in c["xticks"] and "Oct 29" in c["xticks"],
              f"{what}: time ticks {c['xticks']}")


def apex_y(d):
    """The tip of an edge marker: the y its triangle's middle point sits at."""
    pts = [float(v) for v in re.findall(r"-?[0-9.]+", d)]
    return pts[3]


def chart_of(charts, service, k):
    found = [c for c in charts if c["service"] == service and kind(c) == k]
    check(len(found) == 1, f"{service}: {len(found)} {k} charts")
    return found[0] if found else {"clips": [], "marks": [], "ranges": [], "yticks": []}


def check_beyond_range(charts):
    lat = chart_of(charts, "alpha", "latency")
    top = max([float(t.replace(",", "")) for t in lat["yticks"]] or [0])
    check(0 < top < 60000, f"alpha latency axis tops at {top} ms: not bounded below the 60 s day")
    day14 = [c for c in lat["clips"] if "2026-10-14" in c["title"]]
    check(len(day14) == 2, f"alpha Oct 14: {len(day14)} edge markers (want P95 and P99): "
          f"{lat['clips']}")
    for c in day14:
        value = re.search(r": ([0-9.,]+) ?ms", c["title"])
        ms = float(value.group(1).replace(",", "")) if value else 0
        # 60 s recorded; HDR's 3 significant digits keep it within 0.1 %.
        check(abs(ms - 60000) <= 60, f"alpha Oct 14 marker says {c['title']!r}, want 60000 ms")
        check("above the chart's range" in c["title"], f"marker title {c['title']!r}")
        check(apex_y(c["d"]) == PLOT_TOP, f"alpha's marker tip at y {apex_y(c['d'])}, "
              f"want the top edge {PLOT_TOP}")
    others = [c for c in lat["clips"] if "2026-10-14" not in c["title"]]
    check(not others, f"alpha: markers on other days {others}")
    avail = chart_of(charts, "beta", "availability")
    day7 = [c for c in avail["clips"] if "2026-10-07" in c["title"]]
    check(len(day7) == 1, f"beta Oct 7: {len(day7)} edge markers: {avail['clips']}")
    for c in day7:
        check("50.0" in c["title"] and "below the chart's range" in c["title"],
              f"beta Oct 7 marker says {c['title']!r}, want 50 % below the range")
        check(apex_y(c["d"]) == PLOT_BOTTOM, f"beta's marker tip at y {apex_y(c['d'])}, "
              f"want the bottom edge {PLOT_BOTTOM}")


NOTES_DOM = """
return Array.from(document.querySelectorAll('section.service')).map(function(s){
  return [s.querySelector('h2').textContent,
          Array.from(s.querySelectorAll('p.sub')).some(function(p){
            return p.textContent.indexOf('first 120 changes only') >= 0;})];});
"""


def check_marks(charts):
    for k in ("availability", "latency", "budget"):
        marks = chart_of(charts, "beta", k)["marks"]
        got = sorted((m["cls"].split()[-1], m["title"]) for m in marks)
        want = sorted([("deploy", "2026-10-14 13:00: deployed green"),
                       ("gate-pass", "2026-10-14 12:50: gate pass green"),
                       ("gate-fail", "2026-10-14 13:10: gate fail green"),
                       ("gate-pass", "2026-10-14 13:40: gate pass green")])
        check(got == want, f"beta {k} marks {got}, want {want}")
        # 130 deployments, one a minute from Oct 2 00:00: the first 120 marked, to 01:59.
        gamma = chart_of(charts, "gamma", k)["marks"]
        times = sorted(m["title"].split(": ")[0] for m in gamma)
        check(len(gamma) == 120 and times[0] == "2026-10-02 00:00"
              and times[-1] == "2026-10-02 01:59"
              and all(m["cls"].split()[-1] == "deploy" for m in gamma),
              f"gamma {k}: {len(gamma)} marks from {times[:1]} to {times[-1:]}, want 120")
        ranges = chart_of(charts, "gamma", k)["ranges"]
        check(ranges == ["storage upgrade: 2026-10-20 10:00 to 2026-10-20 12:00"],
              f"gamma {k} maintenance {ranges}")
        check(chart_of(charts, "alpha", k)["marks"] == [], f"alpha {k}: marks where none were")


PORTFOLIO_DOM = """
return Array.from(document.querySelectorAll('#portfolio-table tbody tr')).map(function(tr){
  var o = {};
  Array.from(tr.cells).forEach(function(td){
    var k = Array.from(td.classList).filter(function(c){return c.indexOf('pf-') === 0;})[0];
    o[k.slice(3)] = td.textContent;});
  return o;});
"""


def pct(v, decimals):
    return "—" if v is None else f"{100 * v:.{decimals}f}%"


def expected_portfolio(doc):
    rows = []
    for s in doc["services"]:
        objs = s["objectives"]
        budgets = [o["budget_remaining"] for o in objs
                   if o["met"] is not None and o["budget_remaining"] is not None]
        budget = min(budgets) if budgets else None
        avail = 1 - s["errors"] / s["requests"] if s["requests"] else None
        rows.append({"name": s["name"],
                     "met": str(sum(1 for o in objs if o["met"] is True)),
                     "missed": str(sum(1 for o in objs if o["met"] is False)),
                     "none": str(sum(1 for o in objs if o["met"] is None)),
                     "budget": pct(budget, 1), "availability": pct(avail, 3),
                     "p99": "—" if s["p99_us"] is None else f"{s['p99_us'] / 1000:.1f} ms",
                     "requests": str(s["requests"]), "coverage": pct(s["coverage"], 1),
                     "_budget": budget})
    # Worst budget first, services without one last, ties by name.
    rows.sort(key=lambda r: (r["_budget"] is None, r["_budget"] or 0, r["name"]))
    for r in rows:
        del r["_budget"]
    return rows


def check_portfolio(driver, doc):
    got = driver.execute_script(PORTFOLIO_DOM)
    want = expected_portfolio(doc)
    check(sorted(r["name"] for r in got) == sorted(SERVICES),
          f"portfolio services {[r['name'] for r in got]}")
    check(got == want, f"portfolio {json.dumps(got)}\n!= JSON report {json.dumps(want)}")
    # Its numbers are the plan's too: beta missed availability (Oct 7 alone failed 432,000 of
    # 26,784,000 requests), delta's 12 of 31 days are too few for a verdict.
    by = {r["name"]: r for r in got}
    check(by.get("beta", {}).get("missed") == "1", f"beta's misses: {by.get('beta')}")
    check(by.get("delta", {}).get("none") == "2", f"delta's verdicts: {by.get('delta')}")
    check(by.get("alpha", {}).get("requests") == str(31 * 1440 * 600), f"alpha: {by.get('alpha')}")
    # Sorting by a heading (the embedded script): requests up, then down.
    button = driver.find_element(By.XPATH, "//table[@id='portfolio-table']//th/button"
                                           "[normalize-space()='Requests']")
    for direction in ("ascending", "descending"):
        button.click()
        counts = [int(r["requests"]) for r in driver.execute_script(PORTFOLIO_DOM)]
        want_order = sorted(counts, reverse=direction == "descending")
        check(counts == want_order, f"sorted {direction} by requests: {counts}")


def check_late_day(doc):
    """beta's Oct 3: its day row predates the late 60 s minute, so the day is merged from its
    hours, which hold it: 60,000 of 924,000 requests at 60 s is above 1 %, so its P99 is 60 s.
    Oct 4 (no late data) keeps 20 ms, from its day row. HDR keeps 3 significant digits."""
    beta = [s for s in doc["services"] if s["name"] == "beta"]
    days = beta[0]["days"] if beta else []
    for day, want_us in ((3, 60000000), (4, 20000)):
        got = [d["p99_us"] for d in days if d["day"] == day]
        check(len(got) == 1 and got[0] is not None and abs(got[0] - want_us) <= want_us * 1e-3,
              f"beta Oct {day} P99 {got}, want {want_us} us")


PRINT_DOM = """
function all(sel, f){ return Array.from(document.querySelectorAll(sel)).map(f); }
return {charts: document.querySelectorAll('svg.sw-chart').length,
        in_figure: all('svg.sw-chart', function(s){ return !!s.closest('figure.chart'); }),
        figures: all('figure.chart', function(f){ return getComputedStyle(f).breakInside; }),
        sections: all('section.service', function(s){ return getComputedStyle(s).breakBefore; })};
"""


def check_print_css(driver):
    """Printed, each service starts a page and no chart (with its heading) is split."""
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    got = driver.execute_script(PRINT_DOM)
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    check(got["charts"] == 4 * len(SERVICES) and all(got["in_figure"]),
          f"charts outside a figure: {got['in_figure']}")
    check(got["figures"] and set(got["figures"]) == {"avoid"},
          f"printed figures break inside: {got['figures']}")
    check(got["sections"] == ["page"] * len(SERVICES),
          f"printed services do not start a page: {got['sections']}")


def check_browser(exe, data, tmp, screens, doc):
    html = os.path.join(tmp, "report.html")
    p = run(exe, "report", "--data", data, "--month", "2026-10", "-o", html)
    check(p.returncode == 0, f"report html: exit {p.returncode} {p.stderr!r}")
    with open(html, "rb") as f:
        try:
            html5lib.HTMLParser(strict=True).parse(f.read())
        except html5lib.html5parser.ParseError as e:
            check(False, f"the report is not strict HTML5: {e}")
    driver = chromium(os.path.join(tmp, "profile"), "1100,1400")
    try:
        url = "file://" + html
        driver.get(url)
        charts = driver.execute_script(CHARTS_DOM)
        check_axes(charts)
        check_beyond_range(charts)
        check_marks(charts)
        notes = dict(driver.execute_script(NOTES_DOM))
        check(notes == {"alpha": False, "beta": False, "gamma": True, "delta": False},
              f"the note on marks left out: {notes}")
        check_portfolio(driver, doc)
        check_logs(driver, url)
        check_print_css(driver)
        driver.execute_script("document.getElementById('portfolio').scrollIntoView();")
        shot = os.path.join(screens, "report-portfolio.png")
        driver.save_screenshot(shot)
        print(f"screenshot: {shot}")
        driver.execute_script("document.querySelector('section.service').scrollIntoView();")
        shot = os.path.join(screens, "report-service.png")
        driver.save_screenshot(shot)
        print(f"screenshot: {shot}")
    finally:
        driver.quit()


def pdf_pages(data):
    """Page objects of a PDF: /Type /Page dictionaries (not the /Pages tree nodes)."""
    return len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", data))


def check_pdf(exe, data, tmp):
    out = os.path.join(tmp, "report.pdf")
    scratch = os.path.join(tmp, "scratch")
    os.mkdir(scratch)
    env = dict(os.environ, TMPDIR=scratch)
    p = run(exe, "report", "--data", data, "--month", "2026-10", "--format", "pdf", "-o", out,
            env=env)
    check(p.returncode == 0, f"report pdf: exit {p.returncode} {p.stderr!r}")
    body = open(out, "rb").read() if os.path.exists(out) else b""
    check(body.startswith(b"%PDF-") and b"%%EOF" in body[-1024:],
          f"report.pdf is not a PDF: {body[:16]!r}")
    # The summary and portfolio first, then each service from a page of its own.
    pages = pdf_pages(body)
    check(pages >= 1 + len(SERVICES), f"the PDF has {pages} pages, want >= {1 + len(SERVICES)}")
    check(os.listdir(scratch) == [], f"left in TMPDIR: {os.listdir(scratch)}")
    # Without chromium on PATH: one line, exit status 2, no file.
    empty = os.path.join(tmp, "no-browser")
    os.mkdir(empty)
    missing = os.path.join(tmp, "missing.pdf")
    p = run(exe, "report", "--data", data, "--month", "2026-10", "--format", "pdf", "-o",
            missing, env=dict(os.environ, PATH=empty, TMPDIR=scratch))
    err = p.stderr.decode()
    check(p.returncode == 2, f"without chromium: exit {p.returncode}, want 2")
    check(err.count("\n") == 1 and "Chromium" in err and "apt-get install chromium" in err,
          f"without chromium: stderr {err!r}")
    check(not os.path.exists(missing) and not os.path.exists(missing + ".tmp"),
          "without chromium a file was written")
    check(os.listdir(scratch) == [], f"left in TMPDIR: {os.listdir(scratch)}")


# Stand-ins for a browser that hangs (with a helper process, as Chromium starts them) and for
# one that fails; each found on PATH as "chromium".
HANGING = """#!/bin/sh
echo $$ > "{pids}/browser"
sleep 600 &
echo $! > "{pids}/helper"
wait
"""
FAILING = """#!/bin/sh
echo "starting" >&2
echo "cannot open display: nothing here" >&2
exit 3
"""


def gone(pid):
    """No such process, or only its zombie left for its new parent to reap."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def fake_browser(tmp, name, script):
    d = os.path.join(tmp, name)
    os.mkdir(d)
    path = os.path.join(d, "chromium")
    with open(path, "w") as f:
        f.write(script.format(pids=d))
    os.chmod(path, 0o755)
    return d


def check_pdf_failures(exe, data, tmp):
    """A browser past --pdf-timeout is killed with its helpers; one that fails is quoted."""
    scratch = os.path.join(tmp, "scratch2")
    os.mkdir(scratch)
    for name, script, timeout, want in (
            ("hanging", HANGING, "2", "did not print the PDF within 2 s"),
            ("failing", FAILING, "60", "(exit status 3): cannot open display: nothing here")):
        d = fake_browser(tmp, name, script)
        out = os.path.join(tmp, name + ".pdf")
        p = run(exe, "report", "--data", data, "--month", "2026-10", "--format", "pdf",
                "--pdf-timeout", timeout, "-o", out,
                env=dict(os.environ, PATH=d + ":/usr/bin:/bin", TMPDIR=scratch))
        err = p.stderr.decode()
        check(p.returncode == 2 and err.count("\n") == 1 and want in err,
              f"{name} browser: exit {p.returncode}, stderr {err!r}, want {want!r}")
        check(not os.path.exists(out), f"{name} browser: a file was written")
        check(os.listdir(scratch) == [], f"{name} browser: left in TMPDIR {os.listdir(scratch)}")
        if name == "hanging":
            pids = [int(open(os.path.join(d, k)).read()) for k in ("browser", "helper")
                    if os.path.exists(os.path.join(d, k))]
            check(len(pids) == 2, f"the hanging browser did not start: {pids}")
            try:
                wait_until("the browser and its helper to be killed",
                           lambda: all(gone(pid) for pid in pids), timeout=10)
            except TimeoutError:
                check(False, f"still running after the timeout: {pids}")


def check_web_link(exe, rules, tmp):
    """The web UI's /reports page links the month's portfolio, which the daemon serves."""
    with open(rules) as f:
        d = Daemon(exe, tmp, rules=f.read()).start()
    try:
        status, _, body = http("GET", d.url + "/reports")
        links = re.findall(r'href="([^"]*#portfolio)"', body.decode())
        want = "/api/v1/report?month=2026-10&amp;format=html#portfolio"
        check(status == 200 and want in links, f"/reports: HTTP {status}, portfolio links {links}")
        status, _, page = http("GET", d.url + want.replace("&amp;", "&"), timeout=60)
        has = b'id="portfolio"' in page
        check(status == 200 and has, f"the linked report: HTTP {status}, portfolio {has}")
    finally:
        rc = d.stop()
        check(rc == 0, f"slawatch serve exited {rc}")


def main():
    exe, look_month, rules, screens = sys.argv[1:5]
    os.makedirs(screens, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data")  # where serve_util's Daemon keeps its store
        p = subprocess.run([look_month, data, rules], capture_output=True, timeout=300)
        check(p.returncode == 0, f"look_month: {p.stderr!r}")
        p = run(exe, "report", "--data", data, "--month", "2026-10", "--format", "json")
        check(p.returncode == 0, f"report json: {p.stderr!r}")
        doc = json.loads(p.stdout)
        check_late_day(doc)
        check_browser(exe, data, tmp, screens, doc)
        check_pdf(exe, data, tmp)
        check_pdf_failures(exe, data, tmp)
        check_web_link(exe, rules, tmp)
    if FAILURES:
        print(f"{len(FAILURES)} failure(s); screenshots in {screens}", file=sys.stderr)
        sys.exit(1)
    print(f"ok; screenshots in {screens}")


if __name__ == "__main__":
    main()
